import CKernels
import Support
import Foundation
#if canImport(Glibc)
import Glibc
#endif


/// The panel copies of one model's matrices kept in a file, so that the next process maps them instead of repacking.
///
/// Why: repacking the 1.5B model's ~1 GB of panels took 0.74–0.81 s of every start, mapping them takes 0.24–0.28 s
/// (`bench generate`'s load_s, README "Performance"). Decode was hoped to gain too, since a first trial ran faster
/// from a mapped file than from anonymous memory; the finished cache did not repeat that within the machine's noise.
/// The file is only ever replaced whole (`AtomicFile`), so a mapping never sees it change, and it is checked against
/// the model file (size, modification time, inode, the SHA-256 of its first 4 MiB) and against every matrix's name,
/// type, shape and size before any of it is used; a file that does not match (stale, truncated, a damaged header or
/// entry table) is rebuilt. The panel bytes themselves are not checksummed: that would read the whole file at every
/// load, which is what the cache saves.
///
/// Layout: a header, one entry per matrix, then each matrix's panels at a page-aligned offset.
///   header:  "HTPANELS" | version u32 | entry count u32 | model size u64 | mtime ns u64 | inode u64 |
///            SHA-256 of the model's first 4 MiB then `layoutSample` [32]
///   entry:   name [64, NUL padded] | type u32 | rows u32 | cols u32 | 0 u32 | offset u64 | size u64
public final class PanelCache: @unchecked Sendable {
    /// Bumped whenever a panel layout (panels.h, kquant.h) changes, so that old files are rebuilt.
    static let version: UInt32 = 1
    static let magic = Array("HTPANELS".utf8)
    static let headerBytes = 8 + 4 + 4 + 8 + 8 + 8 + 32
    static let entryBytes = 64 + 4 * 4 + 8 + 8
    static let headBytes = 4 << 20
    /// Models below this size repack in well under a second and mostly fit in the caches; they keep no file.
    public static let minimumModelBytes = 256 << 20

    public let url: URL
    let identity: [UInt8]

    /// A cache at `url` for the model mapped in `model`; nil without a panel kernel (nothing to cache) or for a model
    /// that is not a mapped file.
    public init?(url: URL, model: MappedFile) {
        guard QuantizedMatrix.panelsEnabled, ht_has_panel_kernel() != 0, let id = Self.identity(of: model) else { return nil }
        self.url = url
        identity = id
    }

    /// The cache a model gets without being asked: models in hellotune's models folder (fetched ones, the Hub's
    /// included, each at its own path under `panels/`) of `minimumModelBytes` or more, where the CPU has a panel
    /// kernel. Other files repack at every load, so that a scratch GGUF (a test's, a merged model's) leaves no
    /// second copy behind. HELLOTUNE_PANEL_CACHE=off turns it off (to compare both ways on one build).
    public static func automatic(for gguf: GGUFFile) -> PanelCache? {
        guard ProcessInfo.processInfo.environment["HELLOTUNE_PANEL_CACHE"] != "off", QuantizedMatrix.panelsEnabled,
              ht_has_panel_kernel() != 0, gguf.file.bytes.count >= minimumModelBytes else { return nil }
        guard let relative = pathInModelsFolder(gguf.path) else { return nil }
        return PanelCache(url: folder.appendingPathComponent(relative + ".panels"), model: gguf.file)
    }

    /// `path` relative to the models folder (`NAME.gguf`, or `hf/OWNER/REPO/FILE.gguf`), nil outside it.
    static func pathInModelsFolder(_ path: String) -> String? {
        let models = Paths.models.standardizedFileURL.path + "/"
        let model = URL(fileURLWithPath: path).standardizedFileURL.path
        guard model.hasPrefix(models), model.count > models.count else { return nil }
        let relative = String(model.dropFirst(models.count))
        // standardizedFileURL has removed any "..", but the cache's path must stay under panels/ whatever it did
        guard !relative.split(separator: "/").contains("..") else { return nil }
        return relative
    }

    /// $HELLOTUNE_HOME/panels.
    public static var folder: URL { Paths.home.appendingPathComponent("panels", isDirectory: true) }

    /// What the file must record of the model, in header order: size, mtime and inode of the file that was mapped (not
    /// of whatever the path names now: a model fetched again while this one loads must not lend its identity to the
    /// old panels), and one SHA-256 of its first 4 MiB followed by `layoutSample`.
    private static func identity(of model: MappedFile) -> [UInt8]? {
        guard let file = model.fileIdentity else { return nil }
        var bytes: [UInt8] = []
        append(&bytes, file.size)
        append(&bytes, file.mtimeNanoseconds)
        append(&bytes, file.inode)
        var sha = SHA256()
        sha.update(UnsafeRawBufferPointer(rebasing: model.bytes.prefix(headBytes)))
        sha.update(layoutSample)
        bytes += hexBytes(sha.finalize())
        return bytes
    }

    /// Panels this build makes of one small made-up matrix of each panelled type (17 rows, a padded panel; 768 columns,
    /// three super-blocks): hashed with the model's head, so a file made by a build that lays these out differently
    /// does not match, even where `version` was not bumped.
    static let layoutSample: Data = {
        var out = Data()
        for type in [GGMLType.q4_0, .q4_1, .q8_0, .q4_K, .q6_K] {
            let rows = 17, cols = 768, rowBytes = type.rowBytes(cols)!
            let src = (0..<rows * rowBytes).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
            let size = ht_panel_bytes(type.rawValue, Int32(rows), Int32(cols))
            guard size > 0 else { continue }
            var dst = [UInt8](repeating: 0, count: size)
            src.withUnsafeBytes { s in
                dst.withUnsafeMutableBytes { ht_repack_panels(type.rawValue, $0.baseAddress!, s.baseAddress!, rowBytes, Int32(rows), Int32(cols)) }
            }
            out.append(contentsOf: dst)
        }
        return out
    }()

    /// The file's panels if it is whole and was made from this model file; nil otherwise (missing, stale, damaged).
    func open() -> Mapping? {
        let fd = Glibc.open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, Int(st.st_size) >= Self.headerBytes else { return nil }
        let size = Int(st.st_size)
        // Mapping reads nothing yet: only the header and the entries are read before they are checked, and the panels
        // are faulted in (below) only from a file that passed, so a stale file is never read whole.
        guard let base = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), base != MAP_FAILED else { return nil }
        let mapping = Mapping(base: UnsafeRawPointer(base), size: size)
        guard let entries = mapping.entries(identity: identity) else { return nil }
        mapping.entries = entries
        // Fault the panels in now (from the page cache, or the disk once after a reboot) rather than during the first
        // token: MADV_POPULATE_READ (22, Linux 5.14), or at least a read-ahead where the kernel is older.
        if madvise(base, size, 22) != 0 { _ = madvise(base, size, MADV_WILLNEED) }
        return mapping
    }

    /// Writes the panels of `matrices` (each once, by name), replacing any earlier file whole.
    func write(_ matrices: [QuantizedMatrix]) throws {
        var seen = Set<String>()
        let panelled = matrices.filter { $0.panels != nil && seen.insert($0.name).inserted }
        if let long = panelled.first(where: { $0.name.utf8.count >= 64 }) {
            throw PanelCacheError.nameTooLong(long.name)
        }
        // what an interrupted first load left: up to a whole model's panels
        AtomicFile.removeAbandonedWrites(to: url)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        func aligned(_ x: Int) -> Int { (x + page - 1) / page * page }
        var header: [UInt8] = Self.magic
        Self.append(&header, Self.version)
        Self.append(&header, UInt32(panelled.count))
        header += identity
        var offset = aligned(Self.headerBytes + panelled.count * Self.entryBytes)
        var layout: [(QuantizedMatrix, Int, Int)] = []
        for m in panelled {
            let size = m.panelBytes
            var name = Array(m.name.utf8.prefix(63))
            name += [UInt8](repeating: 0, count: 64 - name.count)
            header += name
            for v in [UInt32(m.type.rawValue), UInt32(m.rows), UInt32(m.cols), 0] { Self.append(&header, v) }
            Self.append(&header, UInt64(offset))
            Self.append(&header, UInt64(size))
            layout.append((m, offset, size))
            offset = aligned(offset + size)
        }
        try Paths.ensureDirectory(url.deletingLastPathComponent())
        try AtomicFile.write(to: url, mode: 0o600) { emit in
            var written = 0
            func pad(to target: Int) throws {
                let zeros = [UInt8](repeating: 0, count: target - written)
                try zeros.withUnsafeBytes { try emit($0) }
                written = target
            }
            try header.withUnsafeBytes { try emit($0) }
            written = header.count
            for (m, at, size) in layout {
                try pad(to: at)
                try emit(UnsafeRawBufferPointer(start: m.panels!.bytes, count: size))
                written += size
            }
        }
    }

    /// A whole, checked cache file mapped read-only; it lives as long as a matrix uses it.
    final class Mapping: @unchecked Sendable {
        let base: UnsafeRawPointer
        let size: Int
        var entries: [String: Entry] = [:]

        struct Entry {
            let type: UInt32, rows: Int, cols: Int, offset: Int, size: Int
        }

        init(base: UnsafeRawPointer, size: Int) {
            self.base = base
            self.size = size
        }

        deinit { munmap(UnsafeMutableRawPointer(mutating: base), size) }

        /// The panels of a matrix, if the file holds them for exactly this type and shape.
        func panels(name: String, type: GGMLType, rows: Int, cols: Int) -> UnsafeRawPointer? {
            // the same conditions as a panel copy made here (PanelCopy.eligible), so that a file can never route a
            // product to a kernel this CPU, this setting or this type does not have
            guard PanelCopy.eligible(type: type, cols: cols), let e = entries[name], e.type == UInt32(type.rawValue),
                  e.rows == rows, e.cols == cols, e.size > 0,
                  e.size == ht_panel_bytes(type.rawValue, Int32(rows), Int32(cols)) else { return nil }
            return base + e.offset
        }

        func entries(identity: [UInt8]) -> [String: Entry]? {
            func u32(_ at: Int) -> UInt32 { base.loadUnaligned(fromByteOffset: at, as: UInt32.self) }
            func u64(_ at: Int) -> Int? { Int(exactly: base.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
            guard Array(UnsafeRawBufferPointer(start: base, count: 8)) == PanelCache.magic, u32(8) == PanelCache.version,
                  Array(UnsafeRawBufferPointer(start: base + 16, count: identity.count)) == identity else { return nil }
            let count = Int(u32(12))
            guard PanelCache.headerBytes + count * PanelCache.entryBytes <= size else { return nil }
            var result: [String: Entry] = [:]
            for i in 0..<count {
                let at = PanelCache.headerBytes + i * PanelCache.entryBytes
                let nameBytes = UnsafeRawBufferPointer(start: base + at, count: 64).prefix { $0 != 0 }
                guard let name = String(bytes: nameBytes, encoding: .utf8), let offset = u64(at + 80), let bytes = u64(at + 88),
                      offset <= size, bytes <= size - offset else { return nil }
                result[name] = Entry(type: u32(at + 64), rows: Int(u32(at + 68)), cols: Int(u32(at + 72)), offset: offset, size: bytes)
            }
            return result
        }
    }

    private static func append<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    private static func hexBytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var it = hex.utf8.makeIterator()
        while let a = it.next(), let b = it.next() {
            out.append(UInt8(String(decoding: [a, b], as: UTF8.self), radix: 16)!)
        }
        return out
    }
}

/// Why a panel cache file was not written.
enum PanelCacheError: Error, CustomStringConvertible {
    case nameTooLong(String)

    var description: String {
        switch self {
        case let .nameTooLong(name): return "tensor name \(name) is 64 bytes or longer, more than the cache file holds"
        }
    }
}
