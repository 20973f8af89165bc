#!/usr/bin/env bash
# The main job: set up (packages, build, default model) and open hellotune on the embedded model.
# Extra arguments go to hellotune, e.g. `scripts/run.sh chat --prompt "Hi"`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/setup.sh"
exec "$here/../.build/release/hellotune" "$@"
