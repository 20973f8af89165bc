import XCTest

/// Checks whole-number fields of a JSON report (`dataset check --json`, `dataset build --json`), each by name.
func assertCounts(_ report: [String: Any], _ expected: KeyValuePairs<String, Int>, file: StaticString = #filePath,
                  line: UInt = #line) {
    for (key, value) in expected { XCTAssertEqual(report[key] as? Int, value, key, file: file, line: line) }
}
