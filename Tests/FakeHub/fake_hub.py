#!/usr/bin/env python3
"""A fake Hugging Face Hub on 127.0.0.1 for the `model fetch hf:...` tests; it uses nothing of the code under test.

Usage: fake_hub.py LOG.jsonl. Prints its port on the first line of stdout, then serves until killed.

The resolve endpoint, /OWNER/REPO/resolve/main/FILE, answers as the Hub does for an LFS file: 302 to a download
URL on another host name (localhost instead of 127.0.0.1, so a client that leaks its token there is caught),
with X-Linked-Etag (the file's SHA-256, quoted) and X-Linked-Size. The download URL honours Range.
The repository name picks a behaviour:
  good    the file, as above
  cut     the first download sends half the body, then closes the connection
  badsum  X-Linked-Etag is the SHA-256 of other bytes
  gated   the resolve endpoint wants "Authorization: Bearer hf_test_token", else 401
  renamed a relative 307 to the same file in "good", as the Hub answers for a renamed repository
Each request is appended to LOG as one JSON line: method, path, authorization, range.
"""
import hashlib
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SIZE = 300_000
BODY = bytes((i * 7919 + (i >> 8) * 31) % 251 for i in range(SIZE))
SHA = hashlib.sha256(BODY).hexdigest()
TOKEN = "hf_test_token"
log_lock = threading.Lock()
cut_done = set()


class Hub(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self):
        entry = {"method": self.command, "path": self.path, "host": self.headers.get("Host", ""),
                 "authorization": self.headers.get("Authorization"), "range": self.headers.get("Range")}
        with log_lock, open(sys.argv[1], "a") as f:
            f.write(json.dumps(entry) + "\n")

    def do_HEAD(self):
        self.handle_request(head=True)

    def do_GET(self):
        self.handle_request(head=False)

    def reply(self, status, headers=(), body=b"", head=False):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def handle_request(self, head):
        self.record()
        parts = self.path.split("/")
        # /OWNER/REPO/resolve/main/FILE
        if len(parts) == 6 and parts[3] == "resolve" and parts[4] == "main":
            repo = parts[2]
            if repo == "renamed":
                return self.reply(307, [("Location", f"/{parts[1]}/good/resolve/main/{parts[5]}")], b"", head)
            if repo == "gated" and self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self.reply(401, [("X-Error-Code", "GatedRepo")], b"Access to this model is restricted.", head)
            if repo not in ("good", "cut", "badsum", "gated"):
                return self.reply(404, [("X-Error-Code", "RepoNotFound")], b"Repository not found", head)
            sha = hashlib.sha256(b"other bytes").hexdigest() if repo == "badsum" else SHA
            port = self.server.server_address[1]
            location = f"http://localhost:{port}/cdn/{repo}/{parts[5]}"
            return self.reply(302, [("Location", location), ("X-Linked-Etag", f'"{sha}"'),
                                    ("X-Linked-Size", str(SIZE)), ("ETag", '"0123456789abcdef0123456789abcdef01234567"')],
                              b"", head)
        if len(parts) == 4 and parts[1] == "cdn":
            repo = parts[2]
            start = 0
            rng = self.headers.get("Range")
            if rng and rng.startswith("bytes=") and rng.endswith("-"):
                start = int(rng[len("bytes="):-1])
                if start >= SIZE:
                    return self.reply(416, [("Content-Range", f"bytes */{SIZE}")], b"", head)
            body = BODY[start:]
            status = 206 if start > 0 else 200
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{SIZE - 1}/{SIZE}")
            self.end_headers()
            if head:
                return
            if repo == "cut" and repo not in cut_done:
                cut_done.add(repo)
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.wfile.write(body)
            return
        self.reply(404, [], b"no such path", head)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
