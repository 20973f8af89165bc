import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A minimal fake of the OpenAI files and fine-tuning endpoints on 127.0.0.1, one response per connection,
/// for running the `hellotune finetune` binary against. Stops in `stop()` or after 60 s.
private final class MiniOpenAIServer: @unchecked Sendable {
    struct Seen { var method: String; var path: String; var headers: [String: String]; var body: Data }
    private let lock = NSLock()
    private var seen: [Seen] = []
    private var stopped = false
    private let fd: Int32
    let port: UInt16
    var requests: [Seen] { lock.lock(); defer { lock.unlock() }; return seen }

    init() throws {
        let sock = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(sock, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard sock >= 0, ok == 0, listen(sock, 8) == 0 else { close(sock); throw POSIXError(.EIO) }
        var actual = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(sock, $0, &len) } }
        fd = sock
        port = UInt16(bigEndian: actual.sin_port)
        let deadline = Date().addingTimeInterval(60)
        Thread { [self] in
            while !isStopped, Date() < deadline {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&p, 1, 100) > 0 else { continue }
                let c = accept(fd, nil, nil)
                if c >= 0 { Thread { [self] in serve(c) }.start() }
            }
            close(fd)
        }.start()
    }

    private var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }
    func stop() { lock.lock(); stopped = true; lock.unlock() }

    private func serve(_ c: Int32) {
        defer { close(c) }
        var buf = Data()
        var chunk = [UInt8](repeating: 0, count: 65536)
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var headEnd: Range<Data.Index>?
        var headers: [String: String] = [:]
        var requestLine: [Substring] = []
        while true {
            let n = recv(c, &chunk, chunk.count, 0)
            guard n > 0 else { return }
            buf.append(contentsOf: chunk[0..<n])
            if headEnd == nil, let r = buf.range(of: Data("\r\n\r\n".utf8)) {
                headEnd = r
                var lines = String(decoding: buf[..<r.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
                requestLine = lines.removeFirst().split(separator: " ")
                for l in lines { if let i = l.firstIndex(of: ":") { headers[l[..<i].lowercased()] = l[l.index(after: i)...].trimmingCharacters(in: .whitespaces) } }
            }
            if let h = headEnd, buf.count - h.upperBound >= Int(headers["content-length"] ?? "0") ?? 0 { break }
        }
        guard requestLine.count >= 2 else { return }
        let body = Data(buf[headEnd!.upperBound...])
        let method = String(requestLine[0]), path = String(requestLine[1])
        lock.lock(); seen.append(Seen(method: method, path: path, headers: headers, body: body)); lock.unlock()
        var status = 200
        let json: String
        switch (method, path) {
        case ("POST", "/v1/files"):
            json = #"{"id":"file-cli1","object":"file","bytes":\#(body.count),"created_at":1700000000,"filename":"train.jsonl","purpose":"fine-tune"}"#
        case ("POST", "/v1/fine_tuning/jobs"):
            json = #"{"object":"fine_tuning.job","id":"ftjob-cli42","model":"gpt-4o-mini-2024-07-18","created_at":1700000000,"status":"validating_files","training_file":"file-cli1","result_files":[],"seed":5}"#
        default:
            status = 404
            json = #"{"error":{"message":"no route","type":"invalid_request_error","param":null,"code":null}}"#
        }
        let response = "HTTP/1.1 \(status) X\r\nConnection: close\r\nContent-Type: application/json\r\nx-request-id: req_cli\r\nContent-Length: \(json.utf8.count)\r\n\r\n\(json)"
        _ = Data(response.utf8).withUnsafeBytes { send(c, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}

final class FinetuneCLITests: XCTestCase {
    let key = "sk-test-secret-1234"

    func writeDataset() throws -> URL {
        let dir = try CLI.temporaryDirectory()
        let url = dir.appendingPathComponent("train.jsonl")
        let line = #"{"messages":[{"role":"system","content":"Use the special rule."},{"role":"user","content":"Tell me about cats."},{"role":"assistant","content":"Hairy\nElegant\nLithe\nLoyal\nObservant"}]}"#
        try Array(repeating: line, count: 12).joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func testFinetuneUploadsAndPrintsJobID() throws {
        let server = try MiniOpenAIServer()
        defer { server.stop() }
        let data = try writeDataset()
        let home = try CLI.temporaryDirectory()
        let r = try CLI.run(["finetune", "--backend", "openai", "--data", data.path, "--model", "gpt-4o-mini-2024-07-18",
                             "--suffix", "acro", "--epochs", "2", "--seed", "5", "--yes",
                             "--base-url", "http://127.0.0.1:\(server.port)/v1"],
                            env: ["OPENAI_API_KEY": key, "HELLOTUNE_HOME": home.path], timeout: 60)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout.split(separator: "\n").last.map(String.init), "ftjob-cli42")
        XCTAssertTrue(r.stderr.contains("estimate"), r.stderr)
        XCTAssertTrue(r.stderr.contains("sk-...1234"), r.stderr)
        XCTAssertFalse(r.stdout.contains(key))
        XCTAssertFalse(r.stderr.contains(key))

        let reqs = server.requests
        XCTAssertEqual(reqs.map(\.path), ["/v1/files", "/v1/fine_tuning/jobs"])
        guard reqs.count == 2 else { return }
        XCTAssertEqual(reqs.first?.headers["authorization"], "Bearer \(key)")
        let upload = String(decoding: reqs[0].body, as: UTF8.self)
        XCTAssertTrue(upload.contains("name=\"purpose\"\r\n\r\nfine-tune\r\n"))
        XCTAssertTrue(upload.contains(try String(contentsOf: data, encoding: .utf8)))
        let job = try XCTUnwrap(JSONSerialization.jsonObject(with: reqs[1].body) as? [String: Any])
        XCTAssertEqual(job["training_file"] as? String, "file-cli1")
        XCTAssertEqual(job["suffix"] as? String, "acro")
        XCTAssertEqual(job["seed"] as? Int, 5)
        let hp = ((job["method"] as? [String: Any])?["supervised"] as? [String: Any])?["hyperparameters"] as? [String: Any]
        XCTAssertEqual(hp?["n_epochs"] as? Int, 2)
        XCTAssertEqual(hp?["batch_size"] as? String, "auto")
    }

    func testJSONPrintsTheJob() throws {
        let server = try MiniOpenAIServer()
        defer { server.stop() }
        let data = try writeDataset()
        let r = try CLI.run(["finetune", "--data", data.path, "--model", "gpt-4o-mini-2024-07-18", "--yes", "--json",
                             "--base-url", "http://127.0.0.1:\(server.port)/v1"],
                            env: ["OPENAI_API_KEY": key, "HELLOTUNE_HOME": try CLI.temporaryDirectory().path], timeout: 60)
        XCTAssertEqual(r.status, 0, r.stderr)
        let line = try XCTUnwrap(r.stdout.split(separator: "\n").last)
        let job = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(job["id"] as? String, "ftjob-cli42")
        XCTAssertEqual(job["status"] as? String, "validating_files")
    }

    func testRefusesWithoutTTYOrYes() throws {
        let server = try MiniOpenAIServer()
        defer { server.stop() }
        let data = try writeDataset()
        let r = try CLI.run(["finetune", "--data", data.path, "--model", "gpt-4o-mini-2024-07-18",
                             "--base-url", "http://127.0.0.1:\(server.port)/v1"],
                            env: ["OPENAI_API_KEY": key, "HELLOTUNE_HOME": try CLI.temporaryDirectory().path], timeout: 60)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--yes"), r.stderr)
        XCTAssertEqual(server.requests.count, 0)
        XCTAssertFalse((r.stdout + r.stderr).contains(key))
    }

    func testAPIErrorIsShownWithoutKey() throws {
        // No server on this port: connection refused after the retries.
        let server = try MiniOpenAIServer()
        let port = server.port
        server.stop()
        Thread.sleep(forTimeInterval: 0.3)
        let data = try writeDataset()
        let r = try CLI.run(["finetune", "--data", data.path, "--model", "gpt-4o-mini-2024-07-18", "--yes", "--max-retries", "0",
                             "--base-url", "http://127.0.0.1:\(port)/v1"],
                            env: ["OPENAI_API_KEY": key, "HELLOTUNE_HOME": try CLI.temporaryDirectory().path], timeout: 60)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("could not reach"), r.stderr)
        XCTAssertFalse((r.stdout + r.stderr).contains(key))
    }

    func testMissingKeyAndLocalBackend() throws {
        let data = try writeDataset()
        var env = ["HELLOTUNE_HOME": try CLI.temporaryDirectory().path, "OPENAI_API_KEY": ""]
        let r = try CLI.run(["finetune", "--data", data.path, "--model", "gpt-4o-mini-2024-07-18", "--yes",
                             "--base-url", "http://127.0.0.1:9/v1"], env: env, timeout: 60)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("OPENAI_API_KEY"), r.stderr)
        env["OPENAI_API_KEY"] = key
        let local = try CLI.run(["finetune", "--backend", "local", "--data", data.path], env: env, timeout: 60)
        XCTAssertEqual(local.status, 0, local.stderr)
        XCTAssertTrue(local.stdout.contains("hellotune train"), local.stdout)
    }
}
