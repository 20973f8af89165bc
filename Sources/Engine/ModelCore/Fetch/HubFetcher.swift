import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Support

/// Fetches `hf:OWNER/REPO/FILE.gguf` from the Hugging Face Hub (or `HF_ENDPOINT`), resumably and verified.
///
/// A HEAD of the resolve URL, redirects not followed, gives the SHA-256 the Hub publishes for an LFS file
/// (`X-Linked-Etag`), its size (`X-Linked-Size`) and where the bytes are (`Location`, often another host). The body
/// is appended to `FILE.part` with an HTTP Range from the partial file's length, so a cut connection loses nothing.
/// `HF_TOKEN` goes only to the Hub's own host, never to the host a redirect names.
public enum HubFetcher {
    public static func fetch(_ file: HubFile, log: (String) -> Void = { _ in },
                             progress: (FetchProgress) -> Void = { _ in }) throws -> URL {
        let endpoint = HubFile.endpoint
        let resolve = file.resolveURL(endpoint: endpoint)
        let token = ProcessInfo.processInfo.environment["HF_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }

        var resolved = resolve
        var head = try exchange(request(resolve, method: "HEAD", token: token, endpoint: endpoint), url: resolve)
        // A renamed repository answers with a redirect on the Hub itself, before any file metadata: follow those.
        for _ in 0..<5 {
            guard (300..<400).contains(head.status), head.header("X-Linked-Etag") == nil,
                  let location = head.header("Location"), let next = URL(string: location, relativeTo: resolved)?.absoluteURL,
                  next.host == endpoint.host, next.port == endpoint.port else { break }
            resolved = next
            head = try exchange(request(next, method: "HEAD", token: token, endpoint: endpoint), url: next)
        }
        try check(head, url: resolved, tokenSet: token != nil, allowed: 200..<400)
        guard let sha = head.header("X-Linked-Etag").flatMap(sha256(fromETag:)) else {
            throw FetchError.hubNoChecksum(url: resolve.absoluteString)
        }
        let size = (head.header("X-Linked-Size") ?? head.header("Content-Length")).flatMap { Int($0) }
        let target = file.path
        if FileManager.default.fileExists(atPath: target.path) {
            if try ModelFetcher.sha256(of: target) == sha { return target }
            log("existing \(target.path) does not match the Hub's SHA-256; downloading it again")
        }
        try Paths.ensureDirectory(target.deletingLastPathComponent())
        let lock = try FetchLock(target.deletingLastPathComponent().appendingPathComponent(".\(file.file).lock"))
        defer { lock.release() }

        let partial = target.deletingLastPathComponent().appendingPathComponent(file.file + ".part")
        var have = (try? FileManager.default.attributesOfItem(atPath: partial.path)[.size] as? Int) ?? 0
        if let size, have > size { try ModelFetcher.truncate(partial, to: 0); have = 0 }
        if have > 0 { log("resuming \(file.name) from byte \(have)") }
        if size == nil || have < size! {
            var source = resolved
            if (300..<400).contains(head.status), let location = head.header("Location"),
               let url = URL(string: location, relativeTo: resolved)?.absoluteURL {
                source = url
            }
            try download(source, to: partial, from: have, size: size, token: token, endpoint: endpoint, progress: progress)
        }
        let total = size ?? have
        progress(FetchProgress(done: total, total: total, detail: "checking SHA-256"))
        let digest = try ModelFetcher.sha256(of: partial)
        guard digest == sha else {
            try? FileManager.default.removeItem(at: partial)
            throw FetchError.checksumMismatch(path: target.path, expected: sha, found: digest)
        }
        guard rename(partial.path, target.path) == 0 else { throw FileError.notWritable(path: target.path) }
        return target
    }

    /// GETs `url` from byte `start` and appends the body to `partial`, following up to five redirects.
    static func download(_ url: URL, to partial: URL, from start: Int, size: Int?, token: String?, endpoint: URL,
                         progress: (FetchProgress) -> Void) throws {
        var url = url
        for _ in 0..<6 {
            var req = request(url, method: "GET", token: token, endpoint: endpoint)
            if start > 0 { req.setValue("bytes=\(start)-", forHTTPHeaderField: "Range") }
            var offset = start
            let head = try exchange(req, url: url, onHead: { head in
                // 206 continues the partial file; 200 is the whole file again (a server without ranges).
                guard head.status == 200 || head.status == 206 else { return nil }
                if head.status == 200 { offset = 0 }
                guard (try? ModelFetcher.truncate(partial, to: offset)) != nil,
                      let h = try? FileHandle(forWritingTo: partial) else { return nil }
                _ = try? h.seekToEnd()
                return h
            }, tick: { written in
                let total = size ?? 0
                progress(FetchProgress(done: offset + written, total: total, detail: "downloading"))
            })
            if (300..<400).contains(head.status), let location = head.header("Location"),
               let next = URL(string: location, relativeTo: url)?.absoluteURL {
                url = next
                continue
            }
            if head.status == 416, let size, start == size { return }
            try check(head, url: url, tokenSet: token != nil, allowed: 200..<207)
            let have = (try? FileManager.default.attributesOfItem(atPath: partial.path)[.size] as? Int) ?? 0
            if let size, have < size {
                throw FetchError.hubConnection(url: url.absoluteString, reason: "the connection ended after \(have) of \(size) bytes")
            }
            return
        }
        throw FetchError.hubConnection(url: url.absoluteString, reason: "too many redirects")
    }

    /// A request that carries the token only to the Hub's own scheme, host and port.
    static func request(_ url: URL, method: String, token: String?, endpoint: URL) -> URLRequest {
        var r = URLRequest(url: url)
        r.httpMethod = method
        r.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
        if let token, url.scheme == endpoint.scheme, url.host == endpoint.host, url.port == endpoint.port {
            r.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        }
        return r
    }

    static func exchange(_ request: URLRequest, url: URL, onHead: @escaping (HubTransfer.Head) -> FileHandle? = { _ in nil },
                         tick: (Int) -> Void = { _ in }) throws -> HubTransfer.Head {
        do {
            return try HubTransfer.run(request, onHead: onHead, tick: tick)
        } catch let e as FetchError {
            throw e
        } catch {
            throw FetchError.hubConnection(url: url.absoluteString, reason: error.localizedDescription)
        }
    }

    static func check(_ head: HubTransfer.Head, url: URL, tokenSet: Bool, allowed: Range<Int>) throws {
        if allowed.contains(head.status) { return }
        switch head.status {
        case 401, 403: throw FetchError.hubUnauthorized(url: url.absoluteString, status: head.status, tokenSet: tokenSet)
        case 404: throw FetchError.hubNotFound(url: url.absoluteString)
        default: throw FetchError.hubStatus(url: url.absoluteString, status: head.status)
        }
    }

    /// The SHA-256 in an ETag such as `"abc…"` or `W/"abc…"`, or nil when it is not 64 hex digits (a git blob id).
    static func sha256(fromETag etag: String) -> String? {
        var e = etag.trimmingCharacters(in: .whitespaces)
        if e.hasPrefix("W/") { e.removeFirst(2) }
        e = e.trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased()
        return e.count == 64 && e.allSatisfy(\.isHexDigit) ? e : nil
    }
}
