import Foundation
import Support

/// Adapters carry a SHA-256 of their values, as checkpoints do: a flipped byte in a saved adapter would otherwise
/// load as a different (or NaN) model and answer nonsense with exit status 0.
extension LoRAParameters {
    /// SHA-256 of `values` as little-endian float32, in the engine's own order: the same for the PEFT and GGUF
    /// files of one adapter, whatever row order each format stores.
    public var valuesSHA256: String {
        var hash = SHA256()
        values.withUnsafeBytes { hash.update($0) }
        return hash.finalize()
    }
}

extension AdapterIO {
    /// The metadata key (safetensors `__metadata__`, GGUF key-value) that holds `valuesSHA256`. Other tools ignore it.
    public static let checksumKey = "hellotune.values_sha256"

    /// |lora_alpha| above this makes alpha / rank overflow float32 arithmetic in the forward pass.
    public static let maxAlpha: Double = 1e6

    /// Refuses values that do not match `checksum` (adapters written before checksums, and by other tools, have
    /// none and are only checked for finite values), and any NaN or infinite value, naming its tensor.
    static func verify(_ lora: LoRAParameters, checksum: String?, path: String,
                       tensorName: (Int, LoRATarget, Bool) -> String) throws {
        if let checksum, checksum != lora.valuesSHA256 { throw AdapterError.checksumMismatch(path: path) }
        guard let bad = lora.values.firstIndex(where: { !$0.isFinite }) else { return }
        let slot = lora.slots.first { ($0.aOffset..<$0.bOffset).contains(bad) || $0.bOffset <= bad && bad < $0.bOffset + $0.outFeatures * lora.config.rank }
        let name = slot.map { tensorName($0.layer, $0.target, bad >= $0.bOffset) } ?? "value \(bad)"
        throw AdapterError.nonFiniteValue(path: path, tensor: name)
    }
}
