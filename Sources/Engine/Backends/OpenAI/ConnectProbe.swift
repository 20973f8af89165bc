import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opens (and at once closes) a TCP connection to the API's host within a deadline. URLSession on Linux has no
/// connect timeout of its own: a host that drops packets stalls an attempt for the whole request timeout (ten
/// minutes), where the SDKs give up after 5 s and retry. One extra handshake per request is the price.
enum ConnectProbe {
    /// nil when a connection opened in time; else why not, as the client reports connection errors.
    static func check(host: String, port: Int, timeout: Double) async -> OpenAIError? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: blockingCheck(host: host, port: port, timeout: timeout))
            }
        }
    }

    /// Whether the environment names a proxy: then URLSession connects to the proxy, not to `host`, and the probe
    /// would test the wrong path.
    static func proxyConfigured(_ env: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        ["https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"].contains { !(env[$0] ?? "").isEmpty }
    }

    private static func blockingCheck(host: String, port: Int, timeout: Double) -> OpenAIError? {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let name = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard getaddrinfo(name, String(port), &hints, &list) == 0, let first = list else {
            return .connection(message: "the host name could not be resolved", requestID: nil)
        }
        defer { freeaddrinfo(list) }
        let deadline = Date().addingTimeInterval(timeout)
        var lastError: OpenAIError = .connection(message: "connection refused", requestID: nil)
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            cursor = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            if connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return nil }
            guard errno == EINPROGRESS else {
                lastError = .connection(message: errno == ECONNREFUSED ? "connection refused" : String(cString: strerror(errno)),
                                        requestID: nil)
                continue
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { break }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&pfd, 1, Int32(min(left * 1000, Double(Int32.max)).rounded(.up)))
            if ready <= 0 {
                lastError = .connection(message: "no connection to \(host):\(port) within \(formatSeconds(timeout))", requestID: nil)
                continue
            }
            var soError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
            if soError == 0 { return nil }
            lastError = .connection(message: soError == ECONNREFUSED ? "connection refused" : String(cString: strerror(soError)),
                                    requestID: nil)
        }
        return lastError
    }
}
