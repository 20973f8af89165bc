import Foundation
import XCTest
import Support

/// FIPS 180-4 test vectors, and the same digest whatever the pieces the bytes arrive in.
final class SHA256Tests: XCTestCase {
    func testKnownVectors() {
        XCTAssertEqual(SHA256.hex(Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex(Data(repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testPiecesDoNotChangeTheDigest() {
        var rng = SystemRandomNumberGenerator()
        let bytes = Data((0..<1000).map { _ in UInt8.random(in: 0...255, using: &rng) })
        let whole = SHA256.hex(bytes)
        for cut in [1, 63, 64, 65, 127, 500] {
            var h = SHA256()
            var i = 0
            while i < bytes.count {
                h.update(bytes.subdata(in: i..<min(i + cut, bytes.count)))
                i += cut
            }
            XCTAssertEqual(h.finalize(), whole, "pieces of \(cut)")
        }
    }
}
