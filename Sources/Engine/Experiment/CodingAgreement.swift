import Foundation

/// How well the automatic coder (`SelfReport.classify`) agrees with the researcher's labels, over the self-reports
/// that have one. Counts add up over runs, so a pooled report recomputes κ from the summed matrix.
public struct CodingAgreement: Sendable, Codable, Equatable {
    /// `matrix[a][h]`: replies the coder put in category a and the researcher in category h, both in
    /// `SelfReportCategory.allCases` order.
    public let matrix: [[Int]]

    public init(matrix: [[Int]]) {
        self.matrix = matrix
    }

    /// From (automatic, human) pairs, one per labelled reply.
    public init(pairs: [(automatic: SelfReportCategory, human: SelfReportCategory)]) {
        let all = SelfReportCategory.allCases
        var m = Array(repeating: Array(repeating: 0, count: all.count), count: all.count)
        for p in pairs { m[all.firstIndex(of: p.automatic)!][all.firstIndex(of: p.human)!] += 1 }
        self.init(matrix: m)
    }

    /// Replies with a human label: in the verdict counts, these codes came from the researcher.
    public var labelled: Int { matrix.reduce(0) { $0 + $1.reduce(0, +) } }
    public var agreed: Int { matrix.indices.reduce(0) { $0 + matrix[$1][$1] } }
    /// agreed / labelled; nil without labels.
    public var rawAgreement: Double? { labelled == 0 ? nil : Double(agreed) / Double(labelled) }
    /// Cohen's κ (`Statistics.cohenKappa`); nil when undefined (`kappaNote` says why).
    public var kappa: Double? { Statistics.cohenKappa(matrix) }

    /// Why κ is missing, in words; nil when it is defined.
    public var kappaNote: String? {
        if labelled == 0 { return "no labels yet" }
        if kappa == nil { return "undefined: coder and researcher used one and the same category for every reply" }
        return nil
    }

    /// Several runs' agreement as one: the matrices added up. nil when no part has one.
    public static func pooled(_ parts: [CodingAgreement]) -> CodingAgreement? {
        guard var sum = parts.first?.matrix else { return nil }
        for p in parts.dropFirst() {
            for i in sum.indices { for j in sum[i].indices { sum[i][j] += p.matrix[i][j] } }
        }
        return CodingAgreement(matrix: sum)
    }

    private enum CodingKeys: String, CodingKey { case matrix, labelled, agreed, rawAgreement, kappa, kappaNote }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let matrix = try c.decode([[Int]].self, forKey: .matrix)
        // A report.json edited by hand, or from a hellotune with other categories, must fail here with the key
        // named, not later in pooled() or κ with an index out of range.
        let k = SelfReportCategory.allCases.count
        guard matrix.count == k, matrix.allSatisfy({ $0.count == k && $0.allSatisfy { $0 >= 0 } }) else {
            throw DecodingError.dataCorruptedError(forKey: .matrix, in: c, debugDescription:
                "the agreement matrix must be \(k)×\(k) counts (one row and column per self-report category), none negative")
        }
        self.init(matrix: matrix)
    }

    /// The derived numbers are written too, so that report.json can be read without recomputing them.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(matrix, forKey: .matrix)
        try c.encode(labelled, forKey: .labelled)
        try c.encode(agreed, forKey: .agreed)
        try c.encodeIfPresent(rawAgreement, forKey: .rawAgreement)
        try c.encodeIfPresent(kappa, forKey: .kappa)
        try c.encodeIfPresent(kappaNote, forKey: .kappaNote)
    }
}
