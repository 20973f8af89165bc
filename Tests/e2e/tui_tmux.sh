#!/usr/bin/env bash
# End-to-end check of the terminal UI, driven through tmux like a user at an 80x24 xterm-256color:
# type a new target word on Setup, send a prompt in the Playground and wait for both replies (first
# letters highlighted), open Jobs and Help, resize the window, quit with q, and check the terminal is
# sane afterwards. Exits non-zero on the first failed assertion, printing what the screen showed.
#
#   Tests/e2e/tui_tmux.sh                      # uses .build/release/hellotune
#   HELLOTUNE_BIN=path/to/hellotune Tests/e2e/tui_tmux.sh
#
# Needs tmux and the default model (hellotune model fetch); MODELS_DIR overrides where it is
# (default: $HELLOTUNE_HOME/models, else ~/.cache/hellotune/models).
set -uo pipefail

source "$(dirname "$0")/lib.sh"
reply_timeout="${E2E_REPLY_TIMEOUT:-120}"
extra_args="${E2E_ARGS:---max-tokens 64}"

session="hellotune-e2e-$$"
home="$(new_home hellotune-e2e)"

# A finished training run for the Jobs screen.
run="$home/runs/e2e-run"
mkdir -p "$run"
cat > "$run/log.jsonl" <<'EOF'
{"event":"started","total_steps":4,"start_step":0,"examples":2,"tokens_per_epoch":100}
{"event":"step","step":1,"total_steps":4,"epoch":1,"loss":2.5,"lr":0.001,"grad_norm":1,"tokens":50,"tok_s":400,"eta_s":3}
{"event":"step","step":2,"total_steps":4,"epoch":1,"loss":2.0,"lr":0.001,"grad_norm":1,"tokens":50,"tok_s":410,"eta_s":2}
{"event":"checkpoint","step":2,"path":"checkpoint.bin"}
{"event":"step","step":3,"total_steps":4,"epoch":2,"loss":1.6,"lr":0.001,"grad_norm":1,"tokens":50,"tok_s":405,"eta_s":1}
{"event":"step","step":4,"total_steps":4,"epoch":2,"loss":1.2,"lr":0.001,"grad_norm":1,"tokens":50,"tok_s":420,"eta_s":0}
{"event":"finished","steps":4,"final_loss":1.2,"seconds":9,"cancelled":false,"adapter":"."}
EOF
cat > "$run/training.json" <<'EOF'
{"steps":4,"epochs":2,"finalLoss":1.2,"epochLosses":[2.25,1.4],"epochTokensPerSecond":[405,420],"seconds":9,"cancelled":false,"adapterPath":"."}
EOF

cleanup() {
    tmux kill-session -t "$session" 2>/dev/null
    rm -rf "$home"
}
trap cleanup EXIT

step "starting $bin in tmux (80x24, TERM=xterm-256color, HELLOTUNE_HOME=$home)"
start_shell 80 24
text "stty sane; clear; HELLOTUNE_HOME='$home' '$bin' $extra_args"
keys Enter

# --- Setup: the AKEWO experiment is ready; type a new word, with a refused key ---
wait_for "1 Setup.*2 Jobs.*3 Playground.*4 Results" 20
wait_for "Target word +AKEWO"
screen | grep -q "akewo-mixed" || fail "preset akewo-mixed not shown"
step "Setup opened with AKEWO; typing a new target word"
keys Enter C-u
text "he1"
wait_for "'1' refused: the target word takes letters A-Z only"
text "llo"
wait_for "Target word +HELLO"
keys Enter
wait_for "HELLO · dark · \? help"
screen | grep -q "target word: HELLO" || fail "no confirmation of the new word"
step "target word is HELLO"

# --- Playground: send a prompt, wait for both replies ---
keys 3
wait_for "Prompt › +type a prompt"
# The prompt has the keyboard on arrival: its first letter, t, is also the theme key off the prompt.
text "tell me a short poem about the sea."
wait_for "Prompt › tell me a short poem about the sea\."
keys Enter
step "prompt sent; waiting up to ${reply_timeout}s for both panes"
end=$((SECONDS + reply_timeout))
while :; do
    # Both panes' bottom borders show the finished reply's token count.
    [ "$(screen | grep -Eo '[0-9]+ tok · [0-9.]+ tok/s' | wc -l)" -ge 2 ] && break
    [ "$SECONDS" -gt "$end" ] && fail "both panes did not finish within ${reply_timeout}s"
    sscreen="$(screen)"
    echo "$sscreen" | grep -q "error:" && fail "a pane shows an error"
    sleep 0.5
done
readouts="$(screen | grep -Eo '[0-9]+/5' | wc -l)"
[ "$readouts" -ge 2 ] || fail "expected an initials read-out (N/5) under each pane, found $readouts"
screen | grep -q "Fine-tuned · no adapter" || fail "right pane should say it has no adapter"
screen | grep -q "No adapter chosen" || fail "right pane should say how to choose an adapter"
# The first letter of a reply line carries the match (bright green, 92) or mismatch (red background, 41)
# colour of the dark theme; nothing else on this screen uses those two. Look for that SGR right before
# a letter.
esc=$'\033'
if ! screen_e | grep -aEq "${esc}\[([0-9;]*;)?(41|92)(;[0-9;]*)?m(${esc}\[[0-9;]*m)*[[:alpha:]]"; then
    echo "----- screen with escapes -----" >&2
    screen_e | cat -v | head -30 >&2
    fail "no highlighted first letter (SGR 41 or 92 before a letter) in the replies"
fi
step "both replies streamed in, first letters highlighted"

# --- Jobs --- (Esc leaves the prompt, which keeps the keyboard after a reply, for the screen's keys)
keys Escape
wait_for "r regen"
keys 2
wait_for "e2e-run +local +finished"
wait_for "loss .*2\.500 → 1\.200"
step "Jobs lists the run with its loss chart"

# --- Help ---
keys '?'
wait_for "Keys · Esc or \? closes"
screen | grep -q "Playground" || fail "help lacks the Playground keys"
keys Escape
wait_gone "Keys · Esc or \? closes"
step "Help opened and closed"

# --- Resize ---
tmux resize-window -t "$session" -x 120 -y 40
wait_for "^ hellotune .{90,}\? help"
[ "$(screen | wc -l)" -ge 40 ] || fail "expected 40 rows after the resize"
tmux resize-window -t "$session" -x 50 -y 12
wait_for "Terminal too small: 50x12"
tmux resize-window -t "$session" -x 80 -y 24
wait_for "e2e-run +local +finished"
wait_gone "Terminal too small"
step "resized to 120x40, 50x12 and back"

# --- Quit and check the terminal ---
keys q
wait_for "^e2e\\$ *$" 10
screen | grep -q "1 Setup.*2 Jobs" && fail "the UI is still on screen after q"
keys "clear; stty -a | tr ' ;' '\\n\\n' | grep -Ex -- '-?(echo|icanon|isig)'; echo \"status=\$?\"" Enter
# Anchored: the command line typed above also contains "status=", and matching it would read the screen
# before stty has printed anything.
wait_for "^status=[0-9]+ *$" 10
out="$(screen)"
for flag in echo icanon isig; do
    echo "$out" | grep -qx -- "$flag" || fail "after quitting, stty shows '-$flag' (terminal not restored)"
done
step "terminal restored (echo icanon isig), shell prompt back"
echo "e2e: PASS"
