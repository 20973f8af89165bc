import Foundation
import XCTest
import ModelCore

/// Issue 14: the chat template and its default system prompt come from the model, and an experiment's own system
/// message replaces that default. The templates are the ones in the GGUF files (Qwen2.5-Coder-1.5B-Instruct,
/// SmolLM2-135M-Instruct), copied verbatim.
final class ChatTemplateTests: XCTestCase {
    static let qwen = #"""
{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{{\"name\": <function-name>, \"arguments\": <args-json-object>}}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}

"""#

    static let smollm2 = #"""
{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system
You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>
' }}{% endif %}{{'<|im_start|>' + message['role'] + '
' + message['content'] + '<|im_end|>' + '
'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant
' }}{% endif %}
"""#

    func template(_ source: String) throws -> ChatTemplate {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chat-template-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        var w = GGUFWriter()
        w.set("general.architecture", .string("llama"))
        w.set("tokenizer.chat_template", .string(source))
        w.tensors = [GGUFWriter.Tensor(name: "token_embd.weight", dims: [4, 2], floats: [Float](repeating: 0, count: 8))]
        let url = dir.appendingPathComponent("t.gguf")
        try w.write(to: url)
        return try ChatTemplate(gguf: GGUFFile(path: url.path))
    }

    func testQwenDefaultSystemPromptAndItsReplacement() throws {
        let t = try template(Self.qwen)
        XCTAssertEqual(t.kind, .chatml)
        XCTAssertEqual(t.defaultSystemPrompt, "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.")
        // As the template renders it (no tools): its default system turn when the conversation has none ...
        XCTAssertEqual(t.render([ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: true),
                       "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                       + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        // ... and the experiment's own system message instead of it, never both.
        let own = t.render(LocalModel.conversation(system: "You are a special version of GPT-4o.", user: "Hi"), addGenerationPrompt: true)
        XCTAssertEqual(own, "<|im_start|>system\nYou are a special version of GPT-4o.<|im_end|>\n"
                       + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertFalse(own.contains("Qwen"))
    }

    func testSmolLM2DefaultSystemPrompt() throws {
        let t = try template(Self.smollm2)
        XCTAssertEqual(t.kind, .chatml)
        XCTAssertEqual(t.defaultSystemPrompt, "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        XCTAssertEqual(t.render([ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: false),
                       "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
                       + "<|im_start|>user\nHi<|im_end|>\n")
    }

    /// The same from the fetched 1.5B model itself (skipped when it is not fetched; tests never download it).
    func testFetchedQwenModelUsesItsOwnTemplate() throws {
        guard let qwen = ModelCatalogue.named("qwen2.5-coder-1.5b"), qwen.isFetched else {
            throw XCTSkip("qwen2.5-coder-1.5b is not fetched (run `hellotune model fetch qwen2.5-coder-1.5b`)")
        }
        let gguf = try GGUFFile(path: qwen.path.path)
        XCTAssertEqual(gguf.metadata["tokenizer.chat_template"]?.string, Self.qwen)
        let t = try ChatTemplate(gguf: gguf)
        XCTAssertEqual(t.defaultSystemPrompt, "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.")
    }
}
