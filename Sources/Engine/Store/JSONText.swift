import Foundation

/// Config, payload and score columns hold JSON text that other tools parse later; a malformed value is
/// refused when written, where the bug is, rather than when some report reads it weeks later.
enum JSONText {
    static func validate(_ text: String, field: String) throws {
        do {
            _ = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        } catch {
            throw StoreError.invalidJSON(field: field, reason: text.isEmpty ? "it is empty" : "it does not parse")
        }
    }
}
