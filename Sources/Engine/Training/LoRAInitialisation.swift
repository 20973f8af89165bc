import ModelCore

extension LoRAParameters {
    /// PEFT's initialisation: A ~ kaiming-uniform(a = sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)), B = 0,
    /// so training starts from the base model exactly.
    public func initialise(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        for s in slots {
            let bound = 1 / Float(s.inFeatures).squareRoot()
            for i in 0..<(config.rank * s.inFeatures) {
                values[s.aOffset + i] = Float(rng.nextUnit() * 2 - 1) * bound
            }
            for i in 0..<(s.outFeatures * config.rank) { values[s.bOffset + i] = 0 }
        }
    }
}
