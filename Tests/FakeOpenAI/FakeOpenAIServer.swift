import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A scripted HTTP/1.1 server on 127.0.0.1 (a port the system picks) for testing the OpenAI client offline.
/// Each connection gets one response and is closed. Handlers see the parsed request and return what to send.
/// The server stops when `stop()` is called or, at the latest, after `lifetime` seconds.
/// Shared by the engine and CLI tests; `FakeOpenAIService` puts a whole fine-tuning service behind it.
public final class FakeOpenAIServer: @unchecked Sendable {
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var query: [String: String]
        public var headers: [String: String]
        public var body: Data

        public func header(_ name: String) -> String? { headers[name.lowercased()] }
        public var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
        public var bodyText: String { String(decoding: body, as: UTF8.self) }

        /// multipart/form-data parts by name: (filename, content).
        public var multipart: [String: (filename: String?, data: Data)] {
            guard let ct = header("content-type"), let r = ct.range(of: "boundary=") else { return [:] }
            let boundary = Data(("--" + ct[r.upperBound...].trimmingCharacters(in: .init(charactersIn: "\" "))).utf8)
            var parts: [String: (String?, Data)] = [:]
            var rest = body[...]
            while let start = rest.range(of: boundary) {
                rest = rest[start.upperBound...]
                if rest.starts(with: Data("--".utf8)) { break }
                guard let headEnd = rest.range(of: Data("\r\n\r\n".utf8)) else { break }
                let head = String(decoding: rest[..<headEnd.lowerBound], as: UTF8.self)
                let contentStart = headEnd.upperBound
                guard let next = rest[contentStart...].range(of: Data("\r\n".utf8) + boundary) else { break }
                let content = Data(rest[contentStart..<next.lowerBound])
                func attr(_ name: String) -> String? {
                    guard let r = head.range(of: "\(name)=\"") else { return nil }
                    return String(head[r.upperBound...].prefix { $0 != "\"" })
                }
                if let name = attr("name") { parts[name] = (attr("filename"), content) }
                rest = rest[next.lowerBound...]
            }
            return parts
        }
    }

    public enum Body: Sendable {
        case data(Data)
        /// Chunked transfer: each piece after its delay, then the final empty chunk unless `cut`, in which case
        /// the connection is closed mid-stream.
        case chunks([(delay: Double, data: Data)], cut: Bool)
        /// Waits, then closes the connection without a response.
        case hang(Double)
        /// Chunked transfer of `head`, then `piece` `count` times with `pause` seconds before each, then `tail`,
        /// made while it is sent (for bodies too big to hold, like a 1 GB line); stops when the client hangs up.
        case repeated(head: Data, piece: Data, count: Int, tail: Data, pause: Double)
    }

    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: Body

        public init(status: Int, headers: [String: String], body: Body) {
            self.status = status
            self.headers = headers
            self.body = body
        }

        public static func json(_ object: Any, status: Int = 200, headers: [String: String] = [:]) -> Response {
            let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            return Response(status: status, headers: ["Content-Type": "application/json"].merging(headers) { $1 }, body: .data(data))
        }

        public static func text(_ status: Int, _ text: String, headers: [String: String] = [:]) -> Response {
            Response(status: status, headers: ["Content-Type": "application/json"].merging(headers) { $1 }, body: .data(Data(text.utf8)))
        }

        public static func error(_ status: Int, message: String, type: String? = "invalid_request_error", param: String? = nil,
                          code: String? = nil, headers: [String: String] = [:]) -> Response {
            let err: [String: Any] = ["message": message, "type": type as Any? ?? NSNull(), "param": param as Any? ?? NSNull(),
                                      "code": code as Any? ?? NSNull()]
            return json(["error": err], status: status, headers: headers)
        }

        /// Server-sent events: each string becomes a `data: ...` event.
        public static func sse(_ events: [String], delay: Double = 0, cut: Bool = false, headers: [String: String] = [:]) -> Response {
            Response(status: 200, headers: ["Content-Type": "text/event-stream"].merging(headers) { $1 },
                     body: .chunks(events.map { (delay, Data("data: \($0)\n\n".utf8)) }, cut: cut))
        }
    }

    public typealias Handler = @Sendable (Request) -> Response

    private let lock = NSLock()
    private var handler: Handler
    private var recorded: [Request] = []
    private var stopped = false
    private var sentBodyBytes = 0
    private let listener: Int32
    public let port: UInt16

    public var baseURL: URL { URL(string: "http://127.0.0.1:\(port)/v1")! }
    public var requests: [Request] { lock.lock(); defer { lock.unlock() }; return recorded }
    /// Body bytes of `.repeated` responses that the client accepted before it hung up.
    public var bodyBytesSent: Int { lock.lock(); defer { lock.unlock() }; return sentBodyBytes }

    public init(lifetime: Double = 60, handler: @escaping Handler) throws {
        self.handler = handler
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        var actual = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        listener = fd
        port = UInt16(bigEndian: actual.sin_port)
        let deadline = Date().addingTimeInterval(lifetime)
        let thread = Thread { [self] in acceptLoop(until: deadline) }
        thread.start()
    }

    deinit { stop() }

    public func setHandler(_ h: @escaping Handler) { lock.lock(); handler = h; lock.unlock() }

    public func stop() {
        lock.lock()
        let was = stopped
        stopped = true
        lock.unlock()
        if !was { shutdown(listener, Int32(SHUT_RDWR)) }
    }

    private var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }

    private func acceptLoop(until deadline: Date) {
        defer { close(listener) }
        while !isStopped, Date() < deadline {
            var pfd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            let r = poll(&pfd, 1, 100)
            if r <= 0 { continue }
            let client = accept(listener, nil, nil)
            if client < 0 { if isStopped { break } else { continue } }
            let thread = Thread { [self] in serve(client) }
            thread.start()
        }
        stop()
    }

    private func readRequest(_ fd: Int32) -> Request? {
        var buffer = Data()
        var chunk = [UInt8](repeating: 0, count: 65536)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        func fill() -> Bool {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return false }
            buffer.append(contentsOf: chunk[0..<n])
            return true
        }
        var headEnd: Range<Data.Index>?
        while headEnd == nil {
            guard fill() else { return nil }
            headEnd = buffer.range(of: Data("\r\n\r\n".utf8))
        }
        let head = String(decoding: buffer[..<headEnd!.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Data(buffer[headEnd!.upperBound...])
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            // Decode a chunked request body.
            var decoded = Data()
            while true {
                while body.range(of: Data("\r\n".utf8)) == nil { guard fill() else { return nil }; body = Data(buffer[headEnd!.upperBound...]) }
                var cursor = body.startIndex
                var complete = false
                decoded.removeAll()
                while let lineEnd = body[cursor...].range(of: Data("\r\n".utf8)) {
                    let sizeText = String(decoding: body[cursor..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
                    guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { return nil }
                    if size == 0 { complete = true; break }
                    let start = lineEnd.upperBound
                    guard body.endIndex >= start + size + 2 else { break }
                    decoded.append(body[start..<(start + size)])
                    cursor = start + size + 2
                }
                if complete { body = decoded; break }
                guard fill() else { return nil }
                body = Data(buffer[headEnd!.upperBound...])
            }
        } else {
            let length = Int(headers["content-length"] ?? "0") ?? 0
            while body.count < length {
                guard fill() else { return nil }
                body = Data(buffer[headEnd!.upperBound...])
            }
            body = body.prefix(length)
        }
        let target = String(requestLine[1])
        var path = target
        var query: [String: String] = [:]
        if let q = target.firstIndex(of: "?") {
            path = String(target[..<q])
            for pair in target[target.index(after: q)...].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
                query[kv[0]] = kv.count > 1 ? kv[1] : ""
            }
        }
        return Request(method: String(requestLine[0]), path: path, query: query, headers: headers, body: body)
    }

    private func sendAll(_ fd: Int32, _ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        guard let request = readRequest(fd) else { return }
        lock.lock()
        recorded.append(request)
        let h = handler
        lock.unlock()
        let response = h(request)
        var head = "HTTP/1.1 \(response.status) \(response.status < 400 ? "OK" : "Error")\r\nConnection: close\r\n"
        for (k, v) in response.headers { head += "\(k): \(v)\r\n" }
        switch response.body {
        case let .data(d):
            head += "Content-Length: \(d.count)\r\n\r\n"
            _ = sendAll(fd, Data(head.utf8) + d)
        case let .chunks(pieces, cut):
            head += "Transfer-Encoding: chunked\r\n\r\n"
            guard sendAll(fd, Data(head.utf8)) else { return }
            for piece in pieces {
                if piece.delay > 0 { Thread.sleep(forTimeInterval: piece.delay) }
                if isStopped { return }
                let frame = Data((String(piece.data.count, radix: 16) + "\r\n").utf8) + piece.data + Data("\r\n".utf8)
                guard sendAll(fd, frame) else { return }
            }
            if cut {
                shutdown(fd, Int32(SHUT_RDWR))
                return
            }
            _ = sendAll(fd, Data("0\r\n\r\n".utf8))
        case let .repeated(headPart, piece, count, tail, pause):
            head += "Transfer-Encoding: chunked\r\n\r\n"
            guard sendAll(fd, Data(head.utf8)) else { return }
            func frame(_ d: Data) -> Bool {
                guard !isStopped, sendAll(fd, Data((String(d.count, radix: 16) + "\r\n").utf8) + d + Data("\r\n".utf8)) else {
                    return false
                }
                lock.lock(); sentBodyBytes += d.count; lock.unlock()
                return true
            }
            guard frame(headPart) else { return }
            for _ in 0..<count {
                if pause > 0 { Thread.sleep(forTimeInterval: pause) }
                guard frame(piece) else { return }
            }
            if !tail.isEmpty { guard frame(tail) else { return } }
            _ = sendAll(fd, Data("0\r\n\r\n".utf8))
        case let .hang(seconds):
            let end = Date().addingTimeInterval(seconds)
            while Date() < end, !isStopped { Thread.sleep(forTimeInterval: 0.02) }
        }
    }
}
