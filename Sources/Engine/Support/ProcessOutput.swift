import Foundation

/// A child's stdout and stderr, read through two pipes.
public enum ProcessOutput {
    /// Reads both pipes to their ends, at the same time. One after the other would deadlock with a child that
    /// fills the pipe not being read (about 64 KiB): the child blocks writing to it, so it never closes the other.
    /// Call it once the child has started (`Process.run` closes this process's write ends), then wait for it.
    public static func readToEnd(stdout: Pipe, stderr: Pipe) -> (stdout: Data, stderr: Data) {
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let group = DispatchGroup()
        group.enter()
        let errHandle = stderr.fileHandleForReading
        DispatchQueue.global().async {
            errBox.data = errHandle.readDataToEndOfFile()
            group.leave()
        }
        let outData = stdout.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        return (outData, errBox.data)
    }
}
