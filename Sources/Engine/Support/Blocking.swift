import Foundation

/// Runs async work (the OpenAI client) to the end from synchronous code (the experiment runner, the CLI's
/// commands), blocking this thread meanwhile. The work runs as a detached task, so it never needs the thread it
/// blocks; never call this from inside an async function.
public func runBlocking<T>(_ body: @escaping () async throws -> T) throws -> T {
    let box = BlockingBox(body)
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        do { box.result = .success(try await box.body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

/// The work and its result, handed between the waiting thread and the task; the semaphore orders the accesses.
private final class BlockingBox<T>: @unchecked Sendable {
    let body: () async throws -> T
    var result: Result<T, Error>?
    init(_ body: @escaping () async throws -> T) { self.body = body }
}
