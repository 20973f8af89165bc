import Foundation

/// `sk-...abcd`: enough to tell keys apart, never enough to use one. Short keys show nothing at all.
public func maskedKey(_ key: String) -> String {
    guard key.count >= 12 else { return key.isEmpty ? "(none)" : "***" }
    let prefix = key.hasPrefix("sk-") ? "sk-" : ""
    return prefix + "..." + String(key.suffix(4))
}

/// An API key whose every printed form (description, debug description, reflection) is masked.
public struct APIKey: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The key itself: only for the Authorization header.
    public let secret: String

    public init(_ secret: String) { self.secret = secret }

    public var masked: String { maskedKey(secret) }
    public var description: String { masked }
    public var debugDescription: String { "APIKey(\(masked))" }
    public var customMirror: Mirror { Mirror(self, children: ["masked": masked], displayStyle: .struct) }

    /// `text` with every occurrence of the key replaced by its masked form.
    public func redact(_ text: String) -> String {
        secret.isEmpty ? text : text.replacingOccurrences(of: secret, with: masked)
    }
}

/// How to reach the API and how patiently.
public struct OpenAIConfiguration: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public static let defaultBaseURL = URL(string: "https://api.openai.com/v1")!

    public var apiKey: APIKey
    /// Ends in `/v1` for OpenAI; request paths (`/files`, ...) are appended to it.
    public var baseURL: URL
    public var organization: String?
    public var project: String?
    /// Seconds a request may take before it counts as failed (and is retried); for a stream, the longest wait
    /// for the next piece.
    public var timeout: Double
    /// Retries after the first attempt on connection errors, timeouts, 408, 409, 429 and 5xx.
    public var maxRetries: Int
    /// Seconds to open the TCP connection, as the SDKs allow (5 s): a black-holed host fails fast and is retried,
    /// instead of stalling each attempt for `timeout`.
    public var connectTimeout: Double

    public init(apiKey: String, baseURL: URL = OpenAIConfiguration.defaultBaseURL, organization: String? = nil,
                project: String? = nil, timeout: Double = 600, maxRetries: Int = 2, connectTimeout: Double = 5) {
        self.apiKey = APIKey(apiKey)
        self.baseURL = baseURL
        self.organization = organization
        self.project = project
        self.timeout = timeout
        self.maxRetries = maxRetries
        self.connectTimeout = connectTimeout
    }

    /// The base URL as printed: a `user:password@` in it shows as `***@`.
    public var displayURL: String { Self.masked(baseURL.absoluteString) }

    /// The base URL as stored in a job record: without any `user:password@`, which never reaches the disk.
    public var recordedURL: String { Self.withoutCredentials(baseURL.absoluteString) }

    /// `text` with the user information of a URL in it replaced by `***`.
    public static func masked(_ text: String) -> String { replacingCredentials(in: text, with: "***@") }

    static func withoutCredentials(_ text: String) -> String { replacingCredentials(in: text, with: "") }

    private static func replacingCredentials(in text: String, with replacement: String) -> String {
        guard let scheme = text.range(of: "://") else { return text }
        let rest = text[scheme.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return text }
        return String(text[..<scheme.upperBound]) + replacement + String(rest[rest.index(after: at)...])
    }

    /// Whether `host` is this machine (127.0.0.0/8, ::1, localhost), where plain http never leaves it.
    public static func isLoopback(_ host: String) -> Bool {
        let h = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if h == "localhost" || h.hasSuffix(".localhost") || h == "::1" { return true }
        // 127.x.y.z as an address, not a name such as 127.example.com.
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
    }

    /// OPENAI_API_KEY (required), OPENAI_BASE_URL, OPENAI_ORG_ID, OPENAI_PROJECT_ID; `baseURL` overrides the environment.
    /// A plain-http URL to another machine would send the key in clear, so it is refused unless `allowInsecure`.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment,
                                       baseURL: String? = nil, allowInsecure: Bool = false) throws -> OpenAIConfiguration {
        guard let key = env["OPENAI_API_KEY"]?.trimmingCharacters(in: .whitespacesAndNewlines), !key.isEmpty else {
            throw OpenAIError.missingAPIKey
        }
        let urlText = baseURL ?? env["OPENAI_BASE_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultBaseURL.absoluteString
        guard let url = URL(string: urlText), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              url.host != nil else {
            throw OpenAIError.invalidBaseURL(masked(urlText))
        }
        if scheme == "http", !allowInsecure, let host = url.host, !isLoopback(host) {
            throw OpenAIError.insecureBaseURL(masked(urlText))
        }
        func nonEmpty(_ s: String?) -> String? { s.flatMap { $0.isEmpty ? nil : $0 } }
        return OpenAIConfiguration(apiKey: key, baseURL: url, organization: nonEmpty(env["OPENAI_ORG_ID"]),
                                   project: nonEmpty(env["OPENAI_PROJECT_ID"]))
    }

    public var description: String {
        var parts = ["baseURL: \(displayURL)", "apiKey: \(apiKey.masked)"]
        if let organization { parts.append("organization: \(organization)") }
        if let project { parts.append("project: \(project)") }
        parts.append("timeout: \(timeout) s")
        parts.append("maxRetries: \(maxRetries)")
        return "OpenAIConfiguration(" + parts.joined(separator: ", ") + ")"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["baseURL": displayURL, "apiKey": apiKey.masked, "organization": organization as Any,
                                "project": project as Any, "timeout": timeout, "maxRetries": maxRetries], displayStyle: .struct)
    }
}
