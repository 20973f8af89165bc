// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for the parsers and scorers that read untrusted input. Each executable holds one
// `LLVMFuzzerTestOneInput`; libFuzzer supplies `main`. Build and run them with scripts/fuzz.sh, which
// passes `--sanitize=fuzzer --sanitize=address` and keeps its own scratch path (.build-fuzz).
let targets = ["gguf", "tokenizer", "chat-jsonl", "sse", "experiment-toml", "theme-toml", "acrostic"]

let package = Package(
    name: "hellotune-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "hellotune", path: "..")],
    targets: [
        .target(name: "FuzzSupport", dependencies: [.product(name: "Engine", package: "hellotune")]),
    ] + targets.map { name in
        .executableTarget(
            name: "fuzz-\(name)",
            dependencies: ["FuzzSupport", .product(name: "Engine", package: "hellotune")]
                + (name == "theme-toml" ? [.product(name: "TUI", package: "hellotune")] : []))
    }
)
