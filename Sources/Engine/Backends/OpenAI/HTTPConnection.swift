import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP exchange over URLSession whose response body arrives as a stream of chunks (the
/// `URLSessionDataDelegate` receives them as they come), so the same code serves JSON replies and
/// server-sent events. An idle watchdog cancels the exchange when nothing arrives for `timeout` seconds.
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
    let chunks: AsyncThrowingStream<Data, Error>
    private let chunkContinuation: AsyncThrowingStream<Data, Error>.Continuation

    init(request: URLRequest, timeout: Double) {
        self.timeout = timeout
        (chunks, chunkContinuation) = AsyncThrowingStream<Data, Error>.makeStream()
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

    /// The whole body.
    func collect() async throws -> Data {
        var data = Data()
        for try await chunk in chunks { data.append(chunk) }
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
            resolveHead(.success(http))
        } else {
            resolveHead(.failure(OpenAIError.connection(message: "the server's reply is not HTTP", requestID: nil)))
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        touch()
        chunkContinuation.yield(data)
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
