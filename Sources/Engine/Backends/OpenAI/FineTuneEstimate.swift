import Foundation
import Training

/// What a hosted fine-tuning job will roughly cost, before anything is uploaded.
///
/// Tokens are counted with whatever `tokenCount` is given: the CLI passes the local default model's tokenizer
/// (a different vocabulary from OpenAI's, so an approximation), and without one it falls back to about
/// 4 characters per token. Each message adds 4 tokens of chat framing and each example 3 more, as in OpenAI's
/// cookbook. Billed tokens = dataset tokens × epochs; with `n_epochs` "auto" the epochs are OpenAI's documented
/// default for the dataset size. Prices are a fixed table of list prices and may be out of date: an estimate.
public struct FineTuneEstimate: Sendable, Equatable {
    public var examples: Int
    public var tokensPerEpoch: Int
    public var epochs: Int
    /// True when `epochs` is the service's default guess rather than given.
    public var epochsAreAuto: Bool
    public var model: String
    /// USD per 1M training tokens, nil for a model not in the table.
    public var pricePerMillion: Double?
    /// How tokens were counted, e.g. "local tokenizer (approximation)" or "~4 characters per token".
    public var tokenMethod: String

    public var billedTokens: Int { tokensPerEpoch * epochs }
    public var cost: Double? { pricePerMillion.map { Double(billedTokens) / 1_000_000 * $0 } }

    /// USD per 1M training tokens (list prices; an estimate).
    public static let trainingPricePerMillion: [String: Double] = [
        "gpt-4o-2024-08-06": 25,
        "gpt-4o-mini-2024-07-18": 3,
        "gpt-4o-mini": 3,
        "gpt-4.1": 25,
        "gpt-4.1-2025-04-14": 25,
        "gpt-4.1-mini": 5,
        "gpt-4.1-mini-2025-04-14": 5,
        "gpt-4.1-nano": 1.5,
        "gpt-4.1-nano-2025-04-14": 1.5,
        "gpt-3.5-turbo-0125": 8,
    ]

    public static func price(for model: String) -> Double? {
        if let p = trainingPricePerMillion[model] { return p }
        // A fine-tuned model used as a base: "ft:gpt-4o-mini-2024-07-18:org::id".
        if model.hasPrefix("ft:"), let base = model.split(separator: ":").dropFirst().first {
            return trainingPricePerMillion[String(base)]
        }
        return nil
    }

    /// OpenAI's default `n_epochs` for "auto": 3, raised for small datasets (to at least 100 example passes,
    /// at most 25 epochs) and lowered for large ones (to at most 25,000 example passes, at least 1 epoch).
    public static func autoEpochs(examples n: Int) -> Int {
        guard n > 0 else { return 3 }
        if n * 3 < 100 { return min(25, (100 + n - 1) / n) }
        if n * 3 > 25_000 { return max(1, 25_000 / n) }
        return 3
    }

    public static func charsPerTokenCount(_ text: String) -> Int { (text.utf8.count + 3) / 4 }

    public init(dataset: ChatDataset, model: String, epochs: Int?, tokenCount: ((String) -> Int)? = nil,
                tokenMethod: String? = nil) {
        let count = tokenCount ?? Self.charsPerTokenCount
        var tokens = 0
        for example in dataset.examples {
            tokens += 3
            for m in example { tokens += 4 + count(m.role) + count(m.content) }
        }
        examples = dataset.examples.count
        tokensPerEpoch = tokens
        epochsAreAuto = epochs == nil
        self.epochs = epochs ?? Self.autoEpochs(examples: dataset.examples.count)
        self.model = model
        pricePerMillion = Self.price(for: model)
        self.tokenMethod = tokenMethod ?? (tokenCount == nil ? "~4 characters per token" : "local tokenizer (approximation)")
    }

    public var summary: String {
        let epochText = epochsAreAuto ? "\(epochs) (OpenAI's default for \(examples) examples)" : "\(epochs)"
        var lines = [
            "examples:       \(examples)",
            "tokens/epoch:   \(tokensPerEpoch) (\(tokenMethod))",
            "epochs:         \(epochText)",
            "billed tokens:  \(billedTokens)",
        ]
        if let pricePerMillion, let cost {
            let amount = cost < 0.01 ? "< $0.01" : String(format: "$%.2f", cost)
            lines.append("estimated cost: \(amount) at $\(String(format: "%g", pricePerMillion)) per 1M training tokens" +
                         " for \(model) (estimate; check current prices)")
        } else {
            lines.append("estimated cost: unknown (no price for \(model) in the table)")
        }
        return lines.joined(separator: "\n")
    }
}
