// swift-tools-version:6.0
import PackageDescription

// Numeric code is unusable in debug builds; release builds also drop bounds checks in the
// engine's hot loops (every index there is validated when the model is loaded).
let fastMath: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]

let package = Package(
    name: "hellotune",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "hellotune", targets: ["hellotune"]),
        .library(name: "Engine", targets: ["Engine"]),
        // For the fuzz package (Fuzz/), which reads themes.
        .library(name: "TUI", targets: ["TUI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CNCurses", providers: [.apt(["libncurses-dev"])]),
        .target(
            name: "CKernels",
            cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]
        ),
        // glibc's GNU spawn extensions, which Swift's Glibc module hides: starting workers in a session of their own.
        .target(name: "CSpawn"),
        .target(name: "Engine", dependencies: ["CBLAS", "CKernels", "CSpawn", .product(name: "GRDB", package: "GRDB.swift")], resources: [.copy("Resources")], swiftSettings: fastMath),
        .target(name: "TUI", dependencies: ["Engine", "CNCurses"]),
        .executableTarget(
            name: "hellotune",
            dependencies: ["Engine", "TUI", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // A fake OpenAI API on 127.0.0.1 for the engine and CLI tests; it uses nothing of the code under test.
        .target(name: "FakeOpenAI", path: "Tests/FakeOpenAI"),
        // Small helpers more than one test target needs (a seeded generator, a dead pid, a newer store's header);
        // like FakeOpenAI, it uses nothing of the code under test.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "FakeOpenAI", "TestSupport"], resources: [.copy("Fixtures")], swiftSettings: fastMath),
        .testTarget(name: "TUITests", dependencies: ["TUI", "Engine", "TestSupport"]),
        // Runs the built `hellotune` binary as a user would (exit codes, messages, files).
        .testTarget(name: "CLITests", dependencies: ["hellotune", "Engine", "TUI", "FakeOpenAI", "TestSupport"]),
    ]
)
