import Foundation

/// The pid of a process that has exited and been reaped, so it names nothing (until the kernel reuses it):
/// what a worker that died without a word leaves in the store or in a run folder.
public func deadPID() throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/true")
    try p.run()
    p.waitUntilExit()
    return p.processIdentifier
}
