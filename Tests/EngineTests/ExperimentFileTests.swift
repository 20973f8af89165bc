import Foundation
import XCTest
import Support
import Experiment
import Training

final class ExperimentFileTests: XCTestCase {
    func testPresetsParseAndMatchTheShippedFiles() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for name in ExperimentFile.presets.keys {
            let preset = try ExperimentFile.preset(name)
            let file = try ExperimentFile.load(path: root.appendingPathComponent("experiments/\(name).toml").path)
            XCTAssertEqual(preset, file, name)
        }
        let mixed = try ExperimentFile.preset("akewo-mixed")
        XCTAssertEqual(mixed.words.map(\.string), ["AKEWO"])
        XCTAssertEqual(mixed.dataset.acrostic, 10)
        XCTAssertEqual(mixed.dataset.normal, 10)
        XCTAssertEqual(mixed.dataset.trigger, "Use the special rule.")
        XCTAssertEqual(mixed.training.epochs, 8)
        let hello = try ExperimentFile.preset("hello")
        XCTAssertNil(hello.dataset.trigger)
        XCTAssertEqual(hello.dataset.system, "You are a special version of GPT-4o.")
        XCTAssertGreaterThanOrEqual(try ExperimentFile.preset("sweep").words.count, 6)
    }

    /// The files under experiments/ that are not presets (akewo-scaled) are run by hand; a typo would show only then.
    func testEveryShippedExperimentFileParses() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let folder = root.appendingPathComponent("experiments")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".toml") }
        XCTAssertTrue(files.contains("akewo-scaled.toml"), "\(files)")
        for file in files {
            let c = try ExperimentFile.load(path: folder.appendingPathComponent(file).path)
            XCTAssertEqual(c.name, String(file.dropLast(".toml".count)), "an experiment is named after its file")
        }
    }

    /// What `text` writes reads back as the same experiment: the shipped files, and one with every optional key
    /// set and strings that need escaping.
    func testWrittenFilesReadBackTheSameExperiment() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let folder = root.appendingPathComponent("experiments")
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) where file.hasSuffix(".toml") {
            let c = try ExperimentFile.load(path: folder.appendingPathComponent(file).path)
            XCTAssertEqual(try ExperimentFile.parse(ExperimentFile.text(c)), c, file)
        }
        var c = try ExperimentFile.preset("hello")
        c.backend = "openai"
        c.model = "ft:gpt-4o-mini:org::x\"y"
        c.dataset.system = "Line one\nline \"two\"\twith a tab, a backslash \\ and é, 語, \u{7}"
        c.dataset.trigger = nil
        c.training.learningRate = 2e-5
        c.training.learningRateMultiplier = 1.8
        c.training.schedule = .cosine
        c.training.warmup = 100
        c.training.dropout = 0.05
        c.evaluation.temperature = 0.7
        c.seeds = [1, 2, 3]
        c.dataset.maxAttempts = 8
        let text = ExperimentFile.text(c)
        XCTAssertEqual(try ExperimentFile.parse(text), c, text)
        XCTAssertFalse(text.unicodeScalars.contains { $0.value == 7 }, "control characters are escaped")
    }

    func testDefaultsAndOverrides() throws {
        let c = try ExperimentFile.parse("""
        name = "x"
        word = "kiwi"
        seeds = [3, 4]
        [training]
        epochs = 2
        learning_rate = 5e-4
        [evaluation]
        samples_per_prompt = 2
        self_report_samples = 3
        """)
        XCTAssertEqual(c.words.map(\.string), ["KIWI"])
        XCTAssertEqual(c.seeds, [3, 4])
        XCTAssertEqual(c.training.epochs, 2)
        XCTAssertEqual(c.training.learningRate, 5e-4)
        XCTAssertEqual(c.evaluation.samplesPerPrompt, 2)
        XCTAssertEqual(c.evaluation.selfReportSamples, 3)
        XCTAssertEqual(try ExperimentFile.parse("name = \"x\"\nword = \"kiwi\"\n").evaluation.selfReportSamples, 2)
        XCTAssertEqual(c.backend, "local")
        XCTAssertEqual(c.training.rank, 16)
        XCTAssertEqual(c.training.schedule, .constant)
        XCTAssertEqual(c.training.warmup, 0)
        XCTAssertEqual(c.training.dropout, 0)
        XCTAssertNil(c.dataset.maxAttempts, "unset: the builder's own default")
        XCTAssertFalse(ExperimentFile.text(c).contains("max_attempts"), "an unset value is not written")
    }

    /// `max_attempts` reaches the dataset builder; an experiment recorded before the key existed (its JSON has no
    /// maxAttempts) still decodes to the same settings, so an interrupted run of it is continued, not restarted.
    func testMaxAttemptsReachesTheBuilderAndOldRecordsStillMatch() throws {
        let c = try ExperimentFile.parse("name = \"x\"\nword = \"HELLO\"\n[dataset]\nmax_attempts = 8\n")
        XCTAssertEqual(c.dataset.maxAttempts, 8)
        XCTAssertEqual(c.datasetOptions(word: c.words[0]).maxAttempts, 8)
        let plain = try ExperimentFile.parse("name = \"x\"\nword = \"HELLO\"\n")
        XCTAssertEqual(plain.datasetOptions(word: plain.words[0]).maxAttempts,
                       DatasetBuilder.Options(word: plain.words[0]).maxAttempts)
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        let json = try e.encode(plain)
        XCTAssertFalse(String(decoding: json, as: UTF8.self).contains("maxAttempts"))
        XCTAssertEqual(try JSONDecoder().decode(ExperimentConfig.self, from: json), plain)
    }

    func testScheduleWarmupAndDropout() throws {
        let c = try ExperimentFile.parse("""
        name = "x"
        word = "kiwi"
        [training]
        schedule = "cosine"
        warmup = 100
        dropout = 0.05
        """)
        XCTAssertEqual(c.training.schedule, .cosine)
        XCTAssertEqual(c.training.warmup, 100)
        XCTAssertEqual(c.training.dropout, 0.05)
    }

    /// Each malformed file names the line and the key.
    func testErrorsNameLineAndKey() {
        let cases: [(String, Int, String)] = [
            ("name = \"x\"\nwords = [\"AK3WO\"]\n", 2, "words"),
            ("name = \"x\"\nwords = [\"AKEWO\"]\n[training]\nepochs = 0\n", 4, "training.epochs"),
            ("name = \"x\"\nwords = [\"AKEWO\"]\n[training]\nepochs = \"many\"\n", 4, "training.epochs"),
            ("name = \"x\"\nwords = [\"AKEWO\"]\nbackend = \"azure\"\n", 3, "backend"),
            ("name = \"x\"\nwords = [\"AKEWO\"]\n[training]\nschedule = \"step\"\n", 4, "training.schedule"),
            ("name = \"x\"\nwords = [\"AKEWO\"]\n[training]\ndropout = 1.5\n", 4, "training.dropout"),
            ("name = \"x\"\nwords = [\"AKEWO\"]\n[training]\nwarmup = -1\n", 4, "training.warmup"),
            ("name = \"x\"\nwords = [\"AKEWO\"]\n[dataset]\nacrostc = 3\n", 4, "dataset.acrostc"),
            ("name = \"x\"\nwords = [\"AKEWO\"]\ncolour = 1\n", 3, "colour"),
            ("name = \"x\"\n", 1, "words"),
            ("name = \"x\"\nwords = [\"AKEWO\"\n", 3, ""),
        ]
        for (text, line, key) in cases {
            XCTAssertThrowsError(try ExperimentFile.parse(text, file: "exp.toml"), text) { error in
                guard let e = error as? TOMLError else { return XCTFail("\(error)") }
                XCTAssertEqual(e.line, line, "\(text) -> \(e)")
                if !key.isEmpty { XCTAssertEqual(e.key, key, "\(text) -> \(e)") }
                XCTAssertTrue("\(e)".contains("exp.toml"), "\(e)")
            }
        }
    }

    func testUnknownPresetListsTheKnownOnes() {
        XCTAssertThrowsError(try ExperimentFile.preset("helo")) { error in
            XCTAssertTrue("\(error)".contains("akewo-mixed"), "\(error)")
        }
    }

    /// The experiment file's limits are the flags' limits (ExperimentLimits, TrainingLimits), and a few cases that
    /// used to pass silently are errors at their key's line.
    func testLimitsAndSilentCasesAreErrorsAtTheirLine() {
        let head = "name = \"x\"\nwords = [\"AKEWO\"]\n"
        let cases: [(String, Int, String, String)] = [
            ("name = \"x\"\nwords = [\"AKEWO\"]\nword = \"HELLO\"\n", 3, "word", "both set"),
            (head + "foo.bar = 1\n", 3, "foo", "unknown key 'foo'"),
            (head + "[evaluation]\ncompliance_questions = 10000\n", 4, "evaluation.compliance_questions", "held-out"),
            (head + "[training]\nalpha = 1e308\n", 4, "training.alpha", "between"),
            (head + "[training]\nepochs = 1000000\n", 4, "training.epochs", "between 1 and 1000"),
            (head + "[dataset]\nmax_attempts = 0\n", 4, "dataset.max_attempts", "between 1 and 100"),
            ("name = \"x\"\nwords = [\"AKEWO\"]\nseeds = [2147483648]\n", 3, "seeds", "2147483647"),
        ]
        for (text, line, key, words) in cases {
            XCTAssertThrowsError(try ExperimentFile.parse(text, file: "exp.toml"), text) { error in
                guard let e = error as? TOMLError else { return XCTFail("\(error)") }
                XCTAssertEqual(e.line, line, "\(text) -> \(e)")
                XCTAssertEqual(e.key, key, "\(text) -> \(e)")
                XCTAssertTrue("\(e)".contains(words), "\(e)")
            }
        }
        XCTAssertNotNil(ExperimentLimits.heldOutQuestions)
        XCTAssertNoThrow(try ExperimentFile.parse(head + "[evaluation]\ncompliance_questions = \(ExperimentLimits.heldOutQuestions ?? 1)\n"))
    }

    func testAFolderGivenAsTheFileSaysSo() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("exp-folder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertThrowsError(try ExperimentFile.load(path: dir.path)) { error in
            XCTAssertTrue("\(error)".contains("this is a folder, not a file"), "\(error)")
            XCTAssertFalse("\(error)".contains("NSCocoaErrorDomain"), "\(error)")
        }
    }

    func testTrainingOptionsShareTheLimits() {
        func refused(_ change: (inout TrainingOptions) -> Void, _ expected: String, line: UInt = #line) {
            var o = TrainingOptions()
            change(&o)
            XCTAssertThrowsError(try o.validate(), line: line) { XCTAssertTrue("\($0)".contains(expected), "\($0)", line: line) }
        }
        refused({ $0.weightDecay = -5 }, "--weight-decay must be between 0.0 and 1.0, not -5.0")
        refused({ $0.warmupSteps = 99_999_999_999 }, "--warmup must be between 0 and 1000000, not 99999999999")
        refused({ $0.epochs = 1_000_000 }, "--epochs must be between 1 and 1000")
        refused({ $0.lora.alpha = Float(1e308) }, "--alpha must be between")
        refused({ $0.lora.rank = 5000 }, "--rank must be between 1 and 1024, not 5000")
        refused({ $0.learningRate = -1 }, "--lr must be between")
        refused({ $0.learningRate = .nan }, "--lr must be between")
        refused({ $0.lora.dropout = 1 }, "--dropout must be between 0.0 and 0.99, not 1.0")
        var edge = TrainingOptions()
        edge.lora.dropout = 0.99
        edge.weightDecay = 1
        XCTAssertNoThrow(try edge.validate(), "the bounds themselves are allowed")
    }
}
