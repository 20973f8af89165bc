import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP exchange with redirects not followed (the caller decides where a token may go), its body either
/// appended to a file or kept in memory (small error bodies), waited for synchronously.
final class HubTransfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    struct Head {
        let status: Int
        let headers: [String: String]

        /// A header by name, whatever its case.
        func header(_ name: String) -> String? {
            headers.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
    }

    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)
    private var head: Head?
    private var failure: Error?
    private var sink: FileHandle?
    private var writeError: Error?
    /// Decides, once the head is known, whether the body goes to the file (else it is dropped).
    private let accept: (Head) -> FileHandle?
    private var received = 0

    private init(accept: @escaping (Head) -> FileHandle?) {
        self.accept = accept
    }

    /// Sends `request` and returns its head once the whole body has been handled. `onHead` returns the file the
    /// body is appended to, or nil to drop it. `tick` is called about twice a second with the bytes written so far.
    static func run(_ request: URLRequest, onHead: @escaping (Head) -> FileHandle? = { _ in nil },
                    tick: (Int) -> Void = { _ in }) throws -> Head {
        let transfer = HubTransfer(accept: onHead)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 60
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: configuration, delegate: transfer, delegateQueue: queue)
        defer { session.finishTasksAndInvalidate() }
        session.dataTask(with: request).resume()
        while transfer.done.wait(timeout: .now() + 0.5) == .timedOut { tick(transfer.bytesWritten) }
        tick(transfer.bytesWritten)
        transfer.lock.lock()
        defer { transfer.lock.unlock() }
        if let writeError = transfer.writeError { throw writeError }
        if let head = transfer.head, transfer.failure == nil { return head }
        throw transfer.failure ?? URLError(.badServerResponse)
    }

    var bytesWritten: Int {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        guard let http = response as? HTTPURLResponse else {
            completionHandler(.cancel)
            return
        }
        var headers: [String: String] = [:]
        for (k, v) in http.allHeaderFields { headers["\(k)"] = "\(v)" }
        let h = Head(status: http.statusCode, headers: headers)
        let file = accept(h)
        lock.lock()
        head = h
        sink = file
        lock.unlock()
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        lock.lock()
        defer { lock.unlock() }
        guard let sink, writeError == nil else { return }
        do {
            try sink.write(contentsOf: data)
            received += data.count
        } catch {
            writeError = error
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        lock.lock()
        failure = error
        lock.unlock()
        done.signal()
    }
}
