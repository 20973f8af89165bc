import Foundation

/// What can go wrong talking to the OpenAI API. Descriptions never contain the API key: text from the
/// server is passed through `APIKey.redact` before it is stored here.
public enum OpenAIError: Error, Equatable, CustomStringConvertible, LocalizedError {
    case missingAPIKey
    case invalidBaseURL(String)
    /// A plain-http base URL to a host other than this machine: the key would cross the network in clear.
    case insecureBaseURL(String)
    /// The API answered with an error status; `message` is the server's `error.message` as it is.
    case api(status: Int, message: String, type: String?, param: String?, code: String?, requestID: String?)
    /// An `{"error": ...}` object in the middle of a stream.
    case stream(message: String, type: String?, code: String?, requestID: String?)
    /// No answer: the connection failed or broke (after every retry).
    case connection(message: String, requestID: String?)
    case timeout(seconds: Double, requestID: String?)
    /// A success status with a body that is not what the endpoint returns.
    case invalidResponse(status: Int, reason: String, excerpt: String, requestID: String?)
    /// The stream ended before `data: [DONE]`.
    case streamInterrupted(reason: String, requestID: String?)

    public var requestID: String? {
        switch self {
        case .missingAPIKey, .invalidBaseURL, .insecureBaseURL: nil
        case let .api(_, _, _, _, _, id), let .stream(_, _, _, id), let .connection(_, id), let .timeout(_, id),
             let .invalidResponse(_, _, _, id), let .streamInterrupted(_, id): id
        }
    }

    /// The HTTP status of an API error.
    public var status: Int? {
        switch self {
        case let .api(status, _, _, _, _, _), let .invalidResponse(status, _, _, _): status
        default: nil
        }
    }

    public var description: String {
        let rid = requestID.map { " (request id \($0))" } ?? ""
        switch self {
        case .missingAPIKey:
            return "OPENAI_API_KEY is not set: export your OpenAI API key (https://platform.openai.com/api-keys)."
        case let .invalidBaseURL(s):
            return "invalid OpenAI base URL '\(s)': expected http(s)://host[:port]/v1"
        case let .insecureBaseURL(s):
            return "refusing the plain-http OpenAI base URL '\(s)': it would send the API key in clear to another machine. "
                + "Use https, or pass --allow-insecure if the network between is trusted."
        case let .api(status, message, type, param, code, _):
            var detail: [String] = []
            if let type { detail.append("type \(type)") }
            if let code { detail.append("code \(code)") }
            if let param { detail.append("param \(param)") }
            let extra = detail.isEmpty ? "" : " [\(detail.joined(separator: ", "))]"
            return "OpenAI API error \(status): \(message)\(extra)\(rid)"
        case let .stream(message, type, code, _):
            let detail = [type.map { "type \($0)" }, code.map { "code \($0)" }].compactMap { $0 }
            return "OpenAI stream error: \(message)" + (detail.isEmpty ? "" : " [\(detail.joined(separator: ", "))]") + rid
        case let .connection(message, _):
            return "could not reach the OpenAI API: \(message)\(rid). Check the network connection and OPENAI_BASE_URL, then try again."
        case let .timeout(seconds, _):
            return "the OpenAI API did not answer within \(formatSeconds(seconds))\(rid)"
        case let .invalidResponse(status, reason, excerpt, _):
            return "unexpected response from the OpenAI API (HTTP \(status)): \(reason)" +
                (excerpt.isEmpty ? "" : "; body starts: \(excerpt)") + rid
                + ". Check that OPENAI_BASE_URL points at the OpenAI API or a server compatible with it."
        case let .streamInterrupted(reason, _):
            return "the OpenAI stream was cut off: \(reason)\(rid). Try again."
        }
    }

    public var errorDescription: String? { description }
}

func formatSeconds(_ s: Double) -> String {
    s == s.rounded() ? "\(Int(s)) s" : String(format: "%.3g s", s)
}

/// The error object OpenAI sends: `{"error": {"message", "type", "param", "code"}}`. `code` may be a string,
/// a number or null.
struct APIErrorBody: Decodable {
    struct Inner: Decodable {
        var message: String?
        var type: String?
        var param: String?
        var code: String?

        enum CodingKeys: String, CodingKey { case message, type, param, code }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            func text(_ k: CodingKeys) -> String? {
                if let s = try? c.decodeIfPresent(String.self, forKey: k) { return s }
                if let i = try? c.decodeIfPresent(Int.self, forKey: k) { return String(i) }
                return nil
            }
            message = text(.message)
            type = text(.type)
            param = text(.param)
            code = text(.code)
        }
    }
    var error: Inner
}
