#!/usr/bin/env bash
# Shared set-up for scripts/run.sh and scripts/test.sh: installs what is missing, builds hellotune
# in release mode, and fetches the default model. Idempotent: a second run does nothing slow.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the build and the tests need (git: SwiftPM calls it to resolve the package's dependencies;
# chromium: the HTML report's test loads the page in a real browser, headless).
packages=(git libopenblas-dev libncurses-dev libsqlite3-dev pkg-config python3-pip tmux chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages. Run:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

if ! command -v swift >/dev/null 2>&1; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
  else
    echo "setup: Swift 6 is needed (https://www.swift.org/install/linux/); put it on PATH and run again." >&2
    exit 1
  fi
fi

echo "setup: building (release)" >&2
mkdir -p .build
# The explicit import check names a target that imports another one it does not list as a dependency (the
# layers in README, "How the engine is built").
if ! swift build -c release --explicit-target-dependency-import-check error >.build/setup-build.log 2>&1; then
  grep -E "error|warning: unable" .build/setup-build.log >&2 || tail -n 30 .build/setup-build.log >&2
  echo "setup: build failed (full log: .build/setup-build.log)" >&2
  exit 1
fi

# The default model: verified by SHA-256, downloaded with pip only when missing.
.build/release/hellotune model fetch >&2
