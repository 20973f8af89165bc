import FuzzSupport
import Support
import Experiment

/// Arbitrary text as an experiment file. The TOML reader either throws a TOMLError at a place inside the
/// text, or returns a document whose recorded key locations are inside it; the experiment reader then
/// either throws a TOMLError the same way or returns a configuration within the documented ranges.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzExperimentTOML(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = fuzzText(data, size)
    let lines = lineCount(text)
    do {
        let doc = try TOML.parseDocument(text, file: "fuzz.toml")
        for (key, loc) in doc.locations {
            fuzzCheck((1...lines).contains(loc.line) && loc.column >= 1, "location of \(key) outside the text: \(loc)")
        }
    } catch {
        checkTOMLError(error, text: text, file: "fuzz.toml")
    }
    do {
        let c = try ExperimentFile.parse(text, file: "fuzz.toml")
        fuzzCheck(!c.words.isEmpty && !c.seeds.isEmpty, "no words or seeds")
        fuzzCheck(ExperimentConfig.backends.contains(c.backend), "backend \(c.backend)")
        fuzzCheck((0...10_000).contains(c.dataset.acrostic) && (0...10_000).contains(c.dataset.normal), "dataset sizes")
        fuzzCheck(c.dataset.source != "generate" || c.dataset.acrostic + c.dataset.normal > 0, "empty generated dataset")
        fuzzCheck((1...1000).contains(c.training.epochs) && (1...1024).contains(c.training.rank)
                  && (1...1024).contains(c.training.batchSize), "training ranges")
        fuzzCheck(c.training.learningRate > 0 && c.training.learningRate <= 1 && c.training.alpha > 0, "training rates")
        fuzzCheck((1...10_000).contains(c.evaluation.complianceQuestions) && (1...1000).contains(c.evaluation.samplesPerPrompt)
                  && (8...4096).contains(c.evaluation.maxTokens), "evaluation ranges")
        fuzzCheck(c.evaluation.temperature >= 0 && c.evaluation.temperature <= 5, "temperature \(c.evaluation.temperature)")
        fuzzCheck(c.dataset.trigger != "", "an empty trigger must read as no trigger")
    } catch {
        checkTOMLError(error, text: text, file: "fuzz.toml")
    }
    return 0
}
