// swift-tools-version:6.0
import PackageDescription

// Numeric code is unusable in debug builds; release builds also drop bounds checks in the
// engine's hot loops (every index there is validated when the model is loaded).
let fastMath: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo", "-cross-module-optimization"], .when(configuration: .release))]

let package = Package(
    name: "hellotune",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "hellotune", targets: ["hellotune"]),
        // Every engine layer, for the fuzz package (Fuzz/).
        .library(name: "Engine", targets: ["Support", "ModelCore", "Training", "Store", "Backends", "Experiment"]),
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

        // The engine, one target per layer under Sources/Engine, so that the compiler keeps the layers apart
        // (README, "How the engine is built"). Each target may import only the ones listed as its dependencies.
        // Files, TOML, processes: what every layer may use.
        .target(name: "Support", dependencies: ["CSpawn"], path: "Sources/Engine/Support", swiftSettings: fastMath),
        // GGUF, quantisation, kernels, tokenizer, chat templates, forward pass, sampler, generation, and the
        // LoRA adapter as inference applies it. Imports nothing above it.
        .target(name: "ModelCore", dependencies: ["CBLAS", "CKernels", "Support"], path: "Sources/Engine/ModelCore", swiftSettings: fastMath),
        // Backward pass, optimizer, trainer, checkpoints, adapter writers.
        .target(name: "Training", dependencies: ["ModelCore", "Support", "CKernels"], path: "Sources/Engine/Training", swiftSettings: fastMath),
        // SQLite: experiments, jobs, events, samples, workers' records.
        .target(name: "Store", dependencies: ["Support", .product(name: "GRDB", package: "GRDB.swift")], path: "Sources/Engine/Store", swiftSettings: fastMath),
        // The seam: chat and fine-tune protocols, implemented locally and by the OpenAI API.
        .target(name: "Backends", dependencies: ["ModelCore", "Training", "Store", "Support"], path: "Sources/Engine/Backends", swiftSettings: fastMath),
        // The science: words, scorer, self-report coding, datasets, probes, evaluation, statistics, reports.
        .target(
            name: "Experiment", dependencies: ["Backends", "Training", "ModelCore", "Store", "Support"],
            path: "Sources/Engine/Experiment", resources: [.copy("Resources")], swiftSettings: fastMath),
        .target(name: "TUI", dependencies: ["Experiment", "Backends", "Training", "ModelCore", "Store", "Support", "CNCurses"]),
        .executableTarget(
            name: "hellotune",
            dependencies: ["Experiment", "Backends", "Training", "ModelCore", "Store", "Support", "TUI",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // A fake OpenAI API on 127.0.0.1 for the engine and CLI tests; it uses nothing of the code under test.
        .target(name: "FakeOpenAI", path: "Tests/FakeOpenAI"),
        // Small helpers more than one test target needs (a seeded generator, a dead pid, a newer store's header);
        // like FakeOpenAI, it uses nothing of the code under test.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "EngineTests", dependencies: ["Experiment", "Backends", "Training", "ModelCore", "CKernels", "Store", "Support", "FakeOpenAI", "TestSupport"], resources: [.copy("Fixtures")], swiftSettings: fastMath),
        .testTarget(name: "TUITests", dependencies: ["TUI", "Experiment", "Backends", "Training", "ModelCore", "Store", "Support", "TestSupport"]),
        // Runs the built `hellotune` binary as a user would (exit codes, messages, files).
        .testTarget(name: "CLITests", dependencies: ["hellotune", "Experiment", "Backends", "Training", "ModelCore", "Store", "Support", "TUI", "FakeOpenAI", "TestSupport"]),
    ]
)
