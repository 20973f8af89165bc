/// Everything that can be wrong with a fine-tuning dataset or one of its examples. Each message names the
/// file, the 1-based line and the field at fault, and says what to do about it.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    // The file as a whole.
    case fileMissing(path: String)
    case unreadable(path: String, reason: String)
    case empty(path: String)

    // One line, before or while parsing it.
    case lineTooLong(path: String, line: Int, bytes: Int, limit: Int)
    case invalidUTF8(path: String, line: Int, byteOffset: Int)
    case invalidJSON(path: String, line: Int, reason: String)
    case notAnObject(path: String, line: Int, found: String)

    // The structure of one conversation.
    case missingMessages(path: String, line: Int)
    case messagesNotArray(path: String, line: Int, found: String)
    case emptyMessages(path: String, line: Int)
    case messageNotObject(path: String, line: Int, index: Int, found: String)
    case missingField(path: String, line: Int, index: Int, field: String)
    case fieldNotString(path: String, line: Int, index: Int, field: String, found: String)
    case unknownRole(path: String, line: Int, index: Int, role: String)
    case invalidWeight(path: String, line: Int, index: Int, value: String)
    case noAssistant(path: String, line: Int)
    case assistantWithoutUser(path: String, line: Int, index: Int)
    case systemNotFirst(path: String, line: Int, index: Int)

    // Encoding a conversation into tokens (the path and line are known when it came from a file).
    case tokenizationMismatch(path: String?, line: Int?, index: Int)
    case tooLong(path: String?, line: Int?, tokens: Int, limit: Int)
    case nothingToTrain(path: String?, line: Int?)

    /// The roles a message may have.
    public static let allowedRoles = ["system", "user", "assistant"]

    /// The 1-based line of the offending example, when the error concerns one.
    public var line: Int? {
        switch self {
        case .fileMissing, .unreadable, .empty: return nil
        case let .lineTooLong(_, line, _, _), let .invalidUTF8(_, line, _), let .invalidJSON(_, line, _),
             let .notAnObject(_, line, _), let .missingMessages(_, line), let .messagesNotArray(_, line, _),
             let .emptyMessages(_, line), let .messageNotObject(_, line, _, _), let .missingField(_, line, _, _),
             let .fieldNotString(_, line, _, _, _), let .unknownRole(_, line, _, _), let .invalidWeight(_, line, _, _),
             let .noAssistant(_, line), let .assistantWithoutUser(_, line, _), let .systemNotFirst(_, line, _):
            return line
        case let .tokenizationMismatch(_, line, _), let .tooLong(_, line, _, _), let .nothingToTrain(_, line):
            return line
        }
    }

    public var description: String {
        switch self {
        case let .fileMissing(path):
            return "\(path): no such file. Check the path of the training data "
                + "(OpenAI chat fine-tuning JSONL: one {\"messages\": [...]} object per line)."
        case let .unreadable(path, reason):
            return "\(path): cannot read the file (\(reason)). Check that the path names a readable file."
        case let .empty(path):
            return "\(path): no examples (the file is empty or has only blank lines). "
                + "Write one {\"messages\": [{\"role\": ..., \"content\": ...}, ...]} object per line."
        case let .lineTooLong(path, line, bytes, limit):
            return "\(path):\(line): the line is \(Self.size(bytes)) (\(bytes) bytes), over the \(Self.size(limit)) "
                + "limit for one example, so it was not parsed. Split the conversation into shorter examples."
        case let .invalidUTF8(path, line, offset):
            return "\(path):\(line): not valid UTF-8 (at byte \(offset + 1) of the line). Save the file as UTF-8."
        case let .invalidJSON(path, line, reason):
            return "\(path):\(line): invalid JSON (\(reason)). Each line must hold one complete JSON object; "
                + "a conversation cannot span several lines (write newlines inside strings as \\n)."
        case let .notAnObject(path, line, found):
            return "\(path):\(line): the line is a JSON \(found), not an object. Write each example as {\"messages\": [...]}."
        case let .missingMessages(path, line):
            return "\(path):\(line): messages: missing. Each line needs a \"messages\" array of "
                + "{\"role\", \"content\"} objects."
        case let .messagesNotArray(path, line, found):
            return "\(path):\(line): messages: is \(Self.article(found)) \(found), expected an array of {\"role\", \"content\"} objects."
        case let .emptyMessages(path, line):
            return "\(path):\(line): messages: is empty. Give at least a user message and the assistant's reply."
        case let .messageNotObject(path, line, index, found):
            return "\(path):\(line): messages[\(index)]: is \(Self.article(found)) \(found), expected an object with \"role\" and \"content\"."
        case let .missingField(path, line, index, field):
            return "\(path):\(line): messages[\(index)].\(field): missing. Every message needs a \"role\" and a "
                + "\"content\" string."
        case let .fieldNotString(path, line, index, field, found):
            let hint = field == "content"
                ? " Write the message's text as one string (multi-part content and tool calls are not supported)."
                : " Use one of: \(Self.allowedRoles.joined(separator: ", "))."
            return "\(path):\(line): messages[\(index)].\(field): is \(Self.article(found)) \(found), expected a string.\(hint)"
        case let .unknownRole(path, line, index, role):
            return "\(path):\(line): messages[\(index)].role: unknown role \"\(role)\" (expected system, user or assistant). "
                + "Change it to one of those; tool and function messages are not supported."
        case let .invalidWeight(path, line, index, value):
            return "\(path):\(line): messages[\(index)].weight: is \(value), expected 0 (do not train on this reply) "
                + "or 1 (train on it). Fix the value or leave the weight out."
        case let .noAssistant(path, line):
            return "\(path):\(line): messages: no assistant message, so there is nothing to train on. "
                + "Add the reply the model should learn as a message with role \"assistant\"."
        case let .assistantWithoutUser(path, line, index):
            return "\(path):\(line): messages[\(index)]: an assistant message with no user message before it. "
                + "Put the user's prompt before the reply."
        case let .systemNotFirst(path, line, index):
            return "\(path):\(line): messages[\(index)]: a system message must be the first message. "
                + "Move it to messages[0] (or merge it with the first system message)."
        case let .tokenizationMismatch(path, line, index):
            return "\(Self.location(path, line)): messages[\(index)].content: the reply does not tokenize the same "
                + "on its own as inside the whole conversation (its first characters merge with the chat template's "
                + "text), so its training targets would be misaligned. Remove the leading whitespace from the reply."
        case let .tooLong(path, line, tokens, limit):
            return "\(Self.location(path, line)): the example is \(tokens) tokens, over the limit of \(limit) "
                + "(the model's context). Use shorter examples: shorten the messages or split the conversation."
        case let .nothingToTrain(path, line):
            return "\(Self.location(path, line)): messages: every assistant message has weight 0, so nothing in this "
                + "example is trained. Set weight 1 (or leave the weight out) on at least one assistant reply, "
                + "or remove the example."
        }
    }

    static func location(_ path: String?, _ line: Int?) -> String {
        switch (path, line) {
        case let (path?, line?): return "\(path):\(line)"
        case let (nil, line?): return "line \(line)"
        case let (path?, nil): return path
        case (nil, nil): return "conversation"
        }
    }

    static func article(_ noun: String) -> String {
        noun.first.map { "aeiou".contains($0) } == true ? "an" : "a"
    }

    static func size(_ bytes: Int) -> String {
        let mib = Double(bytes) / 1_048_576
        if mib >= 1 {
            let text = mib == mib.rounded() ? String(Int(mib)) : String(format: "%.1f", mib)
            return "\(text) MiB"
        }
        if bytes >= 1024 { return "\(bytes / 1024) KiB" }
        return "\(bytes) bytes"
    }
}
