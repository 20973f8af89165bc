import Foundation
import XCTest
import Experiment

/// Cohen's κ and the coder's agreement with the researcher's labels, against hand-worked and textbook values.
final class CohenKappaTests: XCTestCase {
    /// The textbook 2×2 examples (Wikipedia, "Cohen's kappa"): 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no gives
    /// p_o = 0.7, p_e = 0.5, κ = 0.4; 45, 15, 25, 15 gives p_o = 0.6, p_e = 0.54, κ = 0.1304.
    func testTextbookExamples() throws {
        XCTAssertEqual(try XCTUnwrap(Statistics.cohenKappa([[20, 5], [10, 15]])), 0.4, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(Statistics.cohenKappa([[45, 15], [25, 15]])), 0.06 / 0.46, accuracy: 1e-12)
    }

    /// Three categories by hand: N = 30, 24 on the diagonal (p_o = 0.8); rows 12, 10, 8 and columns 11, 12, 7 give
    /// p_e = 308/900; κ = (0.8 − 0.34222) / 0.65778 = 0.69595.
    func testThreeCategoriesByHand() throws {
        let m = [[10, 2, 0], [1, 8, 1], [0, 2, 6]]
        XCTAssertEqual(try XCTUnwrap(Statistics.cohenKappa(m)), (0.8 - 308.0 / 900) / (1 - 308.0 / 900), accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(Statistics.cohenKappa(m)), 0.6959459459459459, accuracy: 1e-12)
    }

    /// Perfect agreement is 1, agreement at chance 0, systematic disagreement below 0.
    func testBoundsOfTheScale() throws {
        XCTAssertEqual(try XCTUnwrap(Statistics.cohenKappa([[5, 0], [0, 5]])), 1, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(Statistics.cohenKappa([[5, 5], [5, 5]])), 0, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(Statistics.cohenKappa([[0, 5], [5, 0]])), -1, accuracy: 1e-12)
    }

    /// No labels, or both coders using one and the same category for everything: p_e = 1 and κ is undefined (nil),
    /// with the reason in words. One coder using one category while the other varies is defined: κ = 0.
    func testEdgeCases() throws {
        XCTAssertNil(Statistics.cohenKappa([[0, 0], [0, 0]]))
        XCTAssertNil(Statistics.cohenKappa([]))
        XCTAssertNil(Statistics.cohenKappa([[7, 0], [0, 0]]))
        XCTAssertEqual(try XCTUnwrap(Statistics.cohenKappa([[6, 0], [4, 0]])), 0, accuracy: 1e-12)

        let none = CodingAgreement(pairs: [])
        XCTAssertEqual(none.labelled, 0)
        XCTAssertNil(none.rawAgreement)
        XCTAssertNil(none.kappa)
        XCTAssertEqual(none.kappaNote, "no labels yet")
        let oneCategory = CodingAgreement(pairs: Array(repeating: (automatic: .noRule, human: .noRule), count: 4))
        XCTAssertEqual(oneCategory.rawAgreement, 1)
        XCTAssertNil(oneCategory.kappa)
        XCTAssertEqual(oneCategory.kappaNote, "undefined: coder and researcher used one and the same category for every reply")
    }

    /// The agreement over self-report categories: the matrix in category order, κ from it, pooled by adding matrices,
    /// and report.json carrying the derived numbers.
    func testAgreementPoolsAndEncodes() throws {
        let a = CodingAgreement(pairs: [(.noRule, .noRule), (.noRule, .wrongRule), (.wrongRule, .wrongRule)])
        XCTAssertEqual(a.matrix[4][3], 1, "coder noRule, researcher wrongRule")
        XCTAssertEqual(a.agreed, 2)
        XCTAssertEqual(a.labelled, 3)
        // rows (coder): noRule 2, wrongRule 1; columns (researcher): wrongRule 2, noRule 1; p_o = 2/3,
        // p_e = (2·1 + 1·2) / 9 = 4/9; κ = (2/3 − 4/9) / (5/9) = 0.4.
        XCTAssertEqual(try XCTUnwrap(a.kappa), 0.4, accuracy: 1e-12)
        let b = CodingAgreement(pairs: [(.namesWord, .namesWord)])
        let pooled = try XCTUnwrap(CodingAgreement.pooled([a, b]))
        XCTAssertEqual(pooled.labelled, 4)
        XCTAssertEqual(pooled.agreed, 3)
        XCTAssertNil(CodingAgreement.pooled([]))
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(a)) as? [String: Any]
        XCTAssertEqual(json?["labelled"] as? Int, 3)
        XCTAssertEqual(try XCTUnwrap(json?["kappa"] as? Double), 0.4, accuracy: 1e-12)
        XCTAssertEqual(try JSONDecoder().decode(CodingAgreement.self, from: JSONEncoder().encode(a)), a)
    }

    /// A damaged report.json (a row short, a negative count, another number of categories) is refused when read,
    /// instead of crashing `pooled` or κ with an index out of range.
    func testAMatrixOfTheWrongShapeIsRefusedWhenRead() throws {
        let good = Array(repeating: Array(repeating: 1, count: 5), count: 5)
        XCTAssertNoThrow(try JSONDecoder().decode(CodingAgreement.self, from: JSONSerialization.data(withJSONObject: ["matrix": good])))
        var short = good; short[2].removeLast()
        var negative = good; negative[0][0] = -1
        let four = Array(repeating: Array(repeating: 1, count: 4), count: 4)
        for bad in [short, negative, four] {
            let data = try JSONSerialization.data(withJSONObject: ["matrix": bad])
            XCTAssertThrowsError(try JSONDecoder().decode(CodingAgreement.self, from: data)) { error in
                XCTAssertTrue("\(error)".contains("matrix"), "\(error)")
            }
        }
    }
}
