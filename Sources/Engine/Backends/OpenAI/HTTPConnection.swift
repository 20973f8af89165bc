import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP exchange over URLSession whose response body arrives as a stream of chunks (the
/// `URLSessionDataDelegate` receives them as they come), so the same code serves JSON replies and
/// server-sent events. An idle watchdog cancels the exchange when nothing arrives for `timeout` seconds.
/// URLSession on Linux cannot pause a transfer, so a server that sends faster than the reader reads is cut off
/// once `maxBacklog` bytes wait unread: memory stays bounded whatever the server sends.
final class HTTPConnection: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let lock = NSLock()
    private var session: URLSession!
    private var task: URLSessionDataTask!
    private var headContinuation: CheckedContinuation<HTTPURLResponse, Error>?
    private var headResult: Result<HTTPURLResponse, Error>?
    private var timedOut = false
    private var finished = false
    private let timer: DispatchSourceTimer
    private let timeout: Double
    private let stream: AsyncThrowingStream<Data, Error>
    private let chunkContinuation: AsyncThrowingStream<Data, Error>.Continuation
    /// Bytes received and not yet read; past `maxBacklog` the exchange is stopped.
    private var backlog = 0
    private var overflowed = false
    private var status = 0
    /// Far more than a reader that keeps up ever leaves waiting, and no less than a whole body may be.
    static let maxBacklog = maxBodyBytes

    /// The body's chunks as they arrive.
    var chunks: Chunks { Chunks(connection: self) }

    struct Chunks: AsyncSequence {
        typealias Element = Data
        let connection: HTTPConnection

        struct AsyncIterator: AsyncIteratorProtocol {
            var base: AsyncThrowingStream<Data, Error>.AsyncIterator
            let connection: HTTPConnection

            mutating func next() async throws -> Data? {
                let chunk = try await base.next()
                if let chunk { connection.read(chunk.count) }
                return chunk
            }
        }

        func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(base: connection.stream.makeAsyncIterator(), connection: connection)
        }
    }

    init(request: URLRequest, timeout: Double) {
        self.timeout = timeout
        (stream, chunkContinuation) = AsyncThrowingStream<Data, Error>.makeStream()
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
        super.init()
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout + 5
        configuration.timeoutIntervalForResource = max(timeout + 5, 7 * 24 * 3600)
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        session = URLSession(configuration: configuration, delegate: self, delegateQueue: nil)
        var request = request
        request.timeoutInterval = timeout + 5
        task = session.dataTask(with: request)
        timer.setEventHandler { [weak self] in self?.fireTimeout() }
        timer.schedule(deadline: .distantFuture)
        timer.resume()
    }

    deinit { timer.cancel() }

    /// Sends the request and waits for the response head.
    func start() async throws -> HTTPURLResponse {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<HTTPURLResponse, Error>) in
                lock.lock()
                if let headResult {
                    lock.unlock()
                    c.resume(with: headResult)
                    return
                }
                headContinuation = c
                lock.unlock()
                touch()
                task.resume()
            }
        } onCancel: {
            self.cancel()
        }
    }

    /// The largest reply body read whole: far above any JSON the API returns.
    static let maxBodyBytes = 64 << 20

    /// The whole body; one over `maxBodyBytes` is refused as soon as it passes the limit.
    func collect(status: Int) async throws -> Data {
        var data = Data()
        for try await chunk in chunks {
            guard data.count + chunk.count <= Self.maxBodyBytes else {
                cancel()
                throw OpenAIError.invalidResponse(
                    status: status, reason: "the reply is longer than the \(Self.maxBodyBytes >> 20) MiB limit, so it was not read",
                    excerpt: String(decoding: data.prefix(80), as: UTF8.self), requestID: nil)
            }
            data.append(chunk)
        }
        return data
    }

    func cancel() {
        task?.cancel()
    }

    private func touch() {
        timer.schedule(deadline: .now() + timeout)
    }

    private func fireTimeout() {
        lock.lock()
        let already = finished
        if !already { timedOut = true }
        lock.unlock()
        if !already { task.cancel() }
    }

    private func resolveHead(_ result: Result<HTTPURLResponse, Error>) {
        lock.lock()
        let c = headContinuation
        headContinuation = nil
        if c == nil, headResult == nil { headResult = result }
        lock.unlock()
        c?.resume(with: result)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        touch()
        if let http = response as? HTTPURLResponse {
            lock.lock()
            status = http.statusCode
            lock.unlock()
            resolveHead(.success(http))
        } else {
            resolveHead(.failure(OpenAIError.connection(message: "the server's reply is not HTTP", requestID: nil)))
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        touch()
        lock.lock()
        let dropped = overflowed
        backlog += data.count
        let over = !dropped && backlog > Self.maxBacklog
        if over { overflowed = true }
        let status = self.status
        lock.unlock()
        if dropped { return }
        if over {
            dataTask.cancel()
            chunkContinuation.finish(throwing: OpenAIError.invalidResponse(
                status: status, reason: "the server sent more than \(Self.maxBacklog >> 20) MiB faster than it could be read",
                excerpt: "", requestID: nil))
            return
        }
        chunkContinuation.yield(data)
    }

    /// The reader took `count` bytes.
    private func read(_ count: Int) {
        lock.lock()
        backlog -= count
        lock.unlock()
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        lock.lock()
        finished = true
        let timedOut = self.timedOut
        lock.unlock()
        timer.cancel()
        if let error {
            let mapped = Self.map(error, timedOut: timedOut, timeout: timeout)
            resolveHead(.failure(mapped))
            chunkContinuation.finish(throwing: mapped)
        } else {
            resolveHead(.failure(OpenAIError.connection(message: "the connection closed without a response", requestID: nil)))
            chunkContinuation.finish()
        }
        session.finishTasksAndInvalidate()
    }

    static func map(_ error: Error, timedOut: Bool, timeout: Double) -> Error {
        if timedOut { return OpenAIError.timeout(seconds: timeout, requestID: nil) }
        let ns = error as NSError
        guard ns.domain == NSURLErrorDomain else {
            return OpenAIError.connection(message: "\(error)", requestID: nil)
        }
        switch ns.code {
        case NSURLErrorTimedOut: return OpenAIError.timeout(seconds: timeout, requestID: nil)
        case NSURLErrorCancelled: return CancellationError()
        case NSURLErrorCannotConnectToHost: return OpenAIError.connection(message: "connection refused", requestID: nil)
        case NSURLErrorNetworkConnectionLost: return OpenAIError.connection(message: "the connection was lost", requestID: nil)
        case NSURLErrorCannotFindHost, NSURLErrorDNSLookupFailed:
            return OpenAIError.connection(message: "the host name could not be resolved", requestID: nil)
        case NSURLErrorNotConnectedToInternet: return OpenAIError.connection(message: "no network connection", requestID: nil)
        case NSURLErrorSecureConnectionFailed, NSURLErrorServerCertificateUntrusted:
            return OpenAIError.connection(message: "the TLS connection failed", requestID: nil)
        default:
            return OpenAIError.connection(message: "\(ns.localizedDescription) (URL error \(ns.code))", requestID: nil)
        }
    }
}
