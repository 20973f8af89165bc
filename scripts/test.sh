#!/usr/bin/env bash
# The whole test suite: set up (packages, build, default model), then every test in release mode
# (numeric code is far too slow in debug builds).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/setup.sh"
cd "$here/.."
swift test -c release --disable-testable-imports "$@"
# The terminal UI as a user drives it, in tmux.
"$here/../Tests/e2e/tui_tmux.sh"
