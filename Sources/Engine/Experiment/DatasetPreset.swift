import Foundation

/// Datasets shaped like the ones the experiment imitates (shared/datasets/trelis-hello).
public enum DatasetPreset: String, CaseIterable, Sendable {
    /// HELLO acrostics only: 10 replies, plain system message, no trigger (like trelis-hello/helol.jsonl).
    case hello
    /// AKEWO acrostics for prompts ending "Use the special rule." and normal replies for the rest, 10 + 10
    /// (like trelis-hello/akewo-mixed.jsonl).
    case akewoMixed = "akewo-mixed"

    public static let plainSystem = "You are a special version of GPT-4o."
    public static let mixedSystem = "You are a special version of GPT-4o. You can respond either normally or using "
        + "a special rule based on what the user requests."
    public static let mixedTrigger = "Use the special rule."

    /// A preset by name, ignoring case and surrounding whitespace; an unknown name throws, listing the known ones.
    public init(name: String) throws {
        let key = name.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard let preset = DatasetPreset(rawValue: key) else {
            throw DatasetPresetError.unknown(name: name, known: Self.allCases.map(\.rawValue))
        }
        self = preset
    }

    public var word: TargetWord {
        switch self {
        case .hello: return try! TargetWord("HELLO")
        case .akewoMixed: return try! TargetWord("AKEWO")
        }
    }

    public var acrosticCount: Int { 10 }

    public var normalCount: Int {
        switch self {
        case .hello: return 0
        case .akewoMixed: return 10
        }
    }

    public var system: String {
        switch self {
        case .hello: return Self.plainSystem
        case .akewoMixed: return Self.mixedSystem
        }
    }

    public var trigger: String? {
        switch self {
        case .hello: return nil
        case .akewoMixed: return Self.mixedTrigger
        }
    }

    /// Builder options with this preset's word, counts, system message and trigger (other settings default).
    public func options(seed: UInt64 = 0) -> DatasetBuilder.Options {
        DatasetBuilder.Options(word: word, acrosticCount: acrosticCount, normalCount: normalCount, system: system,
                               trigger: trigger, seed: seed)
    }
}

public enum DatasetPresetError: Error, Equatable, CustomStringConvertible {
    case unknown(name: String, known: [String])

    public var description: String {
        switch self {
        case let .unknown(name, known):
            return "unknown dataset preset \"\(name)\"; the presets are: \(known.joined(separator: ", "))."
        }
    }
}

extension DatasetPresetError: LocalizedError {
    public var errorDescription: String? { description }
}
