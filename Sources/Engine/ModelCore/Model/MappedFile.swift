#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory map of a whole file. Weights stay in the page cache and are shared
/// between processes; nothing is copied until a kernel touches it.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let bytes: UnsafeRawBufferPointer
    /// True when `bytes` is a heap copy (`init(copying:path:)`) rather than a mapping.
    private let ownsCopy: Bool
    /// What fstat said of the file that was mapped: size, modification time in ns, inode (nil for a heap copy). Read
    /// from the descriptor that was mapped, so it describes these bytes even if the path is replaced later.
    public let fileIdentity: (size: UInt64, mtimeNanoseconds: UInt64, inode: UInt64)?

    /// A private copy of `source` that behaves like a mapped file named `path` (which is only used in
    /// messages). The copy has exactly `source.count` bytes, so a reader that strays past the end is
    /// caught by the address sanitizer instead of reading the rest of a page; the fuzz targets use it.
    public init(copying source: UnsafeRawBufferPointer, path: String) {
        self.path = path
        ownsCopy = true
        fileIdentity = nil
        guard source.count > 0, let from = source.baseAddress else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        // 64 bytes: what the widest vector kernel reading F32 tensor data expects of an mmap'd file.
        let copy = UnsafeMutableRawPointer.allocate(byteCount: source.count, alignment: 64)
        copy.copyMemory(from: from, byteCount: source.count)
        bytes = UnsafeRawBufferPointer(start: copy, count: source.count)
    }

    public init(path: String) throws {
        self.path = path
        ownsCopy = false
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw GGUFError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw GGUFError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw GGUFError.cannotOpen(path: path, reason: "not a regular file")
        }
        fileIdentity = (UInt64(st.st_size), UInt64(bitPattern: Int64(st.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(st.st_mtim.tv_nsec)),
                        UInt64(st.st_ino))
        let size = Int(st.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let base, base != MAP_FAILED else {
            throw GGUFError.cannotOpen(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    /// Hands the pages wholly inside `count` bytes from `start` back to the page cache (MADV_DONTNEED): they stop
    /// counting in this process's memory, and a later read faults them in again from the file. Nothing for a
    /// heap copy, whose bytes exist nowhere else.
    public func release(_ start: UnsafeRawPointer, count: Int) {
        guard !ownsCopy, let base = bytes.baseAddress, start >= base, start + count <= base + bytes.count else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (Int(bitPattern: start) + page - 1) / page * page, end = (Int(bitPattern: start) + count) / page * page
        guard end > first, let p = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(p, end - first, MADV_DONTNEED)
    }

    deinit {
        guard let base = bytes.baseAddress else { return }
        if ownsCopy {
            base.deallocate()
        } else {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        }
    }
}
