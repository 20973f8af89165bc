/// The style roles every screen draws with; `themes/*.toml` maps each one to colours and attributes.
public enum StyleRole: String, CaseIterable, Sendable {
    case normal, dim, accent, border, title, selection, match, mismatch, warning, error, chart
}
