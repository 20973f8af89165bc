# Shared by the tmux end-to-end scripts: where the binary and models are, and the helpers that drive a tmux
# session and read its screen. Sourced, not run. The sourcing script sets `session` (a tmux session name)
# before calling any helper, and may define `fail_details` to print more when a check fails.

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${HELLOTUNE_BIN:-$root/.build/release/hellotune}"
models="${MODELS_DIR:-${HELLOTUNE_HOME:-$HOME/.cache/hellotune}/models}"

command -v tmux >/dev/null || { echo "e2e: tmux is not installed" >&2; exit 2; }
[ -x "$bin" ] || { echo "e2e: no hellotune binary at $bin (build it: swift build -c release, or set HELLOTUNE_BIN)" >&2; exit 2; }
[ -d "$models" ] || { echo "e2e: no models folder at $models (run: hellotune model fetch, or set MODELS_DIR)" >&2; exit 2; }
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

# A fresh HELLOTUNE_HOME under $TMPDIR whose models folder links to the real one; prints its path.
new_home() {
    local home
    home="$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")"
    ln -s "$(cd "$models" && pwd)" "$home/models"
    echo "$home"
}

screen() { tmux capture-pane -p -t "$session"; }
screen_e() { tmux capture-pane -p -e -t "$session"; }

fail() {
    echo "e2e FAILED: $*" >&2
    echo "----- screen ($(tmux display -p -t "$session" '#{pane_width}x#{pane_height}' 2>/dev/null)) -----" >&2
    screen >&2
    echo "----- end of screen -----" >&2
    if declare -F fail_details >/dev/null; then fail_details >&2; fi
    exit 1
}

step() { echo "e2e: $*"; }

# wait_for PATTERN [TIMEOUT_S]: poll the screen until an extended regex matches.
wait_for() {
    local pattern="$1" timeout="${2:-10}"
    local end=$((SECONDS + timeout))
    while [ "$SECONDS" -le "$end" ]; do
        screen | grep -Eq -- "$pattern" && return 0
        sleep 0.2
    done
    fail "waited ${timeout}s for /$pattern/"
}

# wait_gone PATTERN [TIMEOUT_S]
wait_gone() {
    local pattern="$1" timeout="${2:-10}"
    local end=$((SECONDS + timeout))
    while [ "$SECONDS" -le "$end" ]; do
        screen | grep -Eq -- "$pattern" || return 0
        sleep 0.2
    done
    fail "waited ${timeout}s for /$pattern/ to go away"
}

keys() { tmux send-keys -t "$session" "$@"; }
# Literal text (no key-name lookup).
text() { tmux send-keys -t "$session" -l -- "$1"; }

# start_shell WIDTH HEIGHT: a clean interactive bash (prompt "e2e$ ") in a new detached session, as a user's
# xterm-256color terminal of that size, without the caller's environment beyond HOME and PATH.
start_shell() {
    tmux new-session -d -s "$session" -x "$1" -y "$2" \
        "env -i HOME=\"$HOME\" PATH=\"$PATH\" TERM=xterm-256color LANG=C.UTF-8 PS1='e2e\$ ' bash --norc --noprofile -i" \
        || { echo "e2e: tmux could not start a session" >&2; exit 2; }
    tmux set-option -t "$session" status off >/dev/null
    sleep 0.3
}
