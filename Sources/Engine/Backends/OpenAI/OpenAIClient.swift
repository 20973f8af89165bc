import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Waits the given number of seconds; tests inject one that records the waits and returns at once.
public typealias RetrySleeper = @Sendable (Double) async throws -> Void

/// The hosted OpenAI API: files, fine-tuning jobs and chat completions, with the official SDKs' retry rules
/// (2 retries on connection errors, timeouts, 408, 409, 429 and 5xx; exponential backoff from 0.5 s to 8 s with
/// jitter; `retry-after-ms` / `Retry-After` up to 120 s; `x-should-retry` obeyed; 5 s to connect).
public struct OpenAIClient: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var configuration: OpenAIConfiguration
    public var sleep: RetrySleeper
    /// A number in [0, 1) that shortens each backoff by up to a quarter.
    public var jitter: @Sendable () -> Double
    /// Receives one line per retry and per failed request (never the key).
    public var log: (@Sendable (String) -> Void)?

    public static let realSleep: RetrySleeper = { seconds in
        if seconds > 0 { try await Task.sleep(nanoseconds: UInt64(seconds * 1e9)) }
    }

    public init(configuration: OpenAIConfiguration, sleep: @escaping RetrySleeper = OpenAIClient.realSleep,
                jitter: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
                log: (@Sendable (String) -> Void)? = nil) {
        self.configuration = configuration
        self.sleep = sleep
        self.jitter = jitter
        self.log = log
    }

    public var description: String { "OpenAIClient(\(configuration.description))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["configuration": configuration], displayStyle: .struct) }

    // MARK: Requests

    struct Response {
        var status: Int
        var headers: [String: String]
        var body: Data
        var requestID: String?
    }

    func url(_ path: String, query: [(String, String?)] = []) -> URL {
        // A `user:password@` in the base URL is never sent: the key takes the Authorization header it would use.
        var base = configuration.recordedURL
        while base.hasSuffix("/") { base.removeLast() }
        var components = URLComponents(string: base + path)!
        let items = query.compactMap { k, v in v.map { URLQueryItem(name: k, value: $0) } }
        if !items.isEmpty { components.queryItems = items }
        return components.url!
    }

    func makeRequest(_ method: String, _ path: String, query: [(String, String?)] = [], body: Data? = nil,
                     contentType: String? = "application/json", accept: String = "application/json") -> URLRequest {
        var r = URLRequest(url: url(path, query: query))
        r.httpMethod = method
        r.setValue("Bearer \(configuration.apiKey.secret)", forHTTPHeaderField: "Authorization")
        r.setValue(accept, forHTTPHeaderField: "Accept")
        r.setValue("hellotune", forHTTPHeaderField: "User-Agent")
        if let organization = configuration.organization { r.setValue(organization, forHTTPHeaderField: "OpenAI-Organization") }
        if let project = configuration.project { r.setValue(project, forHTTPHeaderField: "OpenAI-Project") }
        if let body {
            r.httpBody = body
            if let contentType { r.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        }
        return r
    }

    static func headers(_ response: HTTPURLResponse) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in response.allHeaderFields {
            if let k = k as? String, let v = v as? String { out[k.lowercased()] = v }
        }
        return out
    }

    /// Sends a request, retrying as the SDKs do, and returns the first 2xx response with its connection still
    /// open (the body unread) when `streaming`, else with the whole body. `beforeRetry` runs after each wait and
    /// before the request is sent again: a body it returns is taken as the answer (the earlier attempt worked after
    /// all), and the request is not repeated.
    func send(_ request: URLRequest, streaming: Bool,
              beforeRetry: (() async throws -> Data?)? = nil) async throws -> (Response, HTTPConnection?) {
        let label = "\(request.httpMethod ?? "GET") \(request.url?.path ?? "")"
        var attempt = 0
        func retry(after delay: Double) async throws -> Response? {
            try await sleep(delay)
            attempt += 1
            guard let beforeRetry, let body = try await beforeRetry() else { return nil }
            return Response(status: 200, headers: [:], body: body, requestID: nil)
        }
        while true {
            var requestID: String?
            do {
                try await connect()
                // Made after the probe: a URLSession is invalidated only once its task ends.
                let connection = HTTPConnection(request: request, timeout: configuration.timeout)
                let head = try await connection.start()
                let headers = Self.headers(head)
                requestID = headers["x-request-id"]
                if (200..<300).contains(head.statusCode) {
                    if streaming {
                        return (Response(status: head.statusCode, headers: headers, body: Data(), requestID: requestID), connection)
                    }
                    let body: Data
                    do {
                        body = try await connection.collect(status: head.statusCode)
                    } catch let OpenAIError.invalidResponse(status, reason, excerpt, nil) {
                        throw OpenAIError.invalidResponse(status: status, reason: reason,
                                                          excerpt: configuration.apiKey.redact(excerpt), requestID: requestID)
                    }
                    return (Response(status: head.statusCode, headers: headers, body: body, requestID: requestID), nil)
                }
                let body = (try? await connection.collect(status: head.statusCode)) ?? Data()
                let error = apiError(status: head.statusCode, body: body, requestID: requestID)
                if attempt < configuration.maxRetries, Self.shouldRetry(status: head.statusCode, headers: headers) {
                    let delay = retryDelay(headers: headers, attempt: attempt)
                    log?("\(label) -> HTTP \(head.statusCode)\(requestID.map { " (request id \($0))" } ?? ""); retrying in \(formatSeconds(delay)) (attempt \(attempt + 2) of \(configuration.maxRetries + 1))")
                    if let found = try await retry(after: delay) { return (found, nil) }
                    continue
                }
                log?("\(label) -> \(error)")
                throw error
            } catch let error as OpenAIError {
                let retryable: Bool
                switch error {
                case .connection, .timeout: retryable = true
                default: retryable = false
                }
                let withID = Self.attach(requestID, to: error)
                guard retryable else { throw withID }
                if attempt < configuration.maxRetries {
                    let delay = backoff(attempt: attempt)
                    log?("\(label) -> \(withID); retrying in \(formatSeconds(delay)) (attempt \(attempt + 2) of \(configuration.maxRetries + 1))")
                    if let found = try await retry(after: delay) { return (found, nil) }
                    continue
                }
                log?("\(label) -> \(withID)")
                throw withID
            }
        }
    }

    /// Fails with a connection error unless the host accepts a TCP connection within `connectTimeout`.
    func connect() async throws {
        guard configuration.connectTimeout > 0, !ConnectProbe.proxyConfigured(), let host = configuration.baseURL.host else { return }
        let port = configuration.baseURL.port ?? (configuration.baseURL.scheme?.lowercased() == "http" ? 80 : 443)
        if let failure = await ConnectProbe.check(host: host, port: port, timeout: configuration.connectTimeout) { throw failure }
    }

    static func attach(_ requestID: String?, to error: OpenAIError) -> OpenAIError {
        guard let requestID else { return error }
        switch error {
        case let .connection(m, nil): return .connection(message: m, requestID: requestID)
        case let .timeout(s, nil): return .timeout(seconds: s, requestID: requestID)
        default: return error
        }
    }

    /// 408, 409, 429 and 5xx, unless the server says otherwise with `x-should-retry`.
    static func shouldRetry(status: Int, headers: [String: String]) -> Bool {
        switch headers["x-should-retry"]?.lowercased() {
        case "true": return true
        case "false": return false
        default: return status == 408 || status == 409 || status == 429 || status >= 500
        }
    }

    /// The longest wait a server's `retry-after-ms` / `Retry-After` may ask for, as the SDKs now honour.
    public static let maxRetryAfter: Double = 120

    /// The server's `retry-after-ms` or `Retry-After` (seconds or an HTTP date) when it is in (0, 120] seconds,
    /// else exponential backoff.
    public func retryDelay(headers: [String: String], attempt: Int, now: Date = Date()) -> Double {
        if let ms = headers["retry-after-ms"].flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }), ms > 0, ms <= Self.maxRetryAfter * 1000 {
            return ms / 1000
        }
        if let text = headers["retry-after"]?.trimmingCharacters(in: .whitespaces) {
            var seconds = Double(text)
            if seconds == nil, let date = Self.httpDate(text) { seconds = date.timeIntervalSince(now) }
            if let seconds, seconds > 0, seconds <= Self.maxRetryAfter { return seconds }
        }
        return backoff(attempt: attempt)
    }

    /// 0.5 s × 2^attempt, at most 8 s, shortened by up to 25 % at random.
    public func backoff(attempt: Int) -> Double {
        let base = min(0.5 * pow(2, Double(attempt)), 8)
        return base * (1 - 0.25 * min(max(jitter(), 0), 1))
    }

    static func httpDate(_ text: String) -> Date? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            f.dateFormat = format
            if let d = f.date(from: text) { return d }
        }
        return nil
    }

    /// The server's error object as it is (with the key masked, should it be quoted in full).
    func apiError(status: Int, body: Data, requestID: String?) -> OpenAIError {
        let key = configuration.apiKey
        if let parsed = try? JSONDecoder().decode(APIErrorBody.self, from: body) {
            let e = parsed.error
            return .api(status: status, message: key.redact(e.message ?? "(no message)"), type: e.type.map(key.redact),
                        param: e.param.map(key.redact), code: e.code.map(key.redact), requestID: requestID)
        }
        let text = String(decoding: body.prefix(500), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let message = text.isEmpty ? HTTPURLResponse.localizedString(forStatusCode: status) : key.redact(text)
        return .api(status: status, message: message, type: nil, param: nil, code: nil, requestID: requestID)
    }

    func decode<T: Decodable>(_ type: T.Type, _ response: Response) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: response.body)
        } catch {
            let reason: String
            switch error {
            case DecodingError.dataCorrupted:
                reason = "the body is not valid JSON"
            case let DecodingError.keyNotFound(key, ctx):
                reason = "missing field '\((ctx.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
            case let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx):
                reason = "unexpected value at '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))': \(ctx.debugDescription)"
            default:
                reason = "\(error)"
            }
            let excerpt = configuration.apiKey.redact(String(decoding: response.body.prefix(200), as: UTF8.self))
            throw OpenAIError.invalidResponse(status: response.status, reason: reason, excerpt: excerpt, requestID: response.requestID)
        }
    }

    func json(_ object: [String: Any]) -> Data {
        try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    func get<T: Decodable>(_ path: String, query: [(String, String?)] = [], as type: T.Type) async throws -> T {
        let (response, _) = try await send(makeRequest("GET", path, query: query), streaming: false)
        return try decode(T.self, response)
    }

    func post<T: Decodable>(_ path: String, body: Data?, contentType: String? = "application/json", as type: T.Type,
                            beforeRetry: (() async throws -> Data?)? = nil) async throws -> T {
        let (response, _) = try await send(makeRequest("POST", path, body: body, contentType: contentType), streaming: false,
                                           beforeRetry: beforeRetry)
        return try decode(T.self, response)
    }
}
