import Foundation
import Support
import ModelCore

/// The default model's tokenizer, built once per process from the GGUF's metadata: the fuzz targets
/// check the real vocabulary and merges, not a toy one. $HELLOTUNE_MODEL overrides the file.
public enum FuzzModel {
    public static let path: String = {
        let override = ProcessInfo.processInfo.environment["HELLOTUNE_MODEL"] ?? ""
        return override.isEmpty ? Paths.defaultModel.path : override
    }()

    public static let tokenizer: Tokenizer = {
        do {
            return try Tokenizer(gguf: GGUFFile(path: path))
        } catch {
            FileHandle.standardError.write(Data("fuzz: cannot load the tokenizer of \(path): \(error)\n".utf8))
            FileHandle.standardError.write(Data("fuzz: run `hellotune model fetch` or set HELLOTUNE_MODEL\n".utf8))
            exit(2)
        }
    }()
}
