#!/usr/bin/env bash
# The issue's learning check: train on the Trelis akewo-mixed data (20 rows, 8 epochs, lr 1e-3,
# r=16, alpha=32, seed 1), then ask 20 held-out questions greedily with and without the trigger
# and count the replies whose 5 lines spell AKEWO.
#   scripts/checks/learning_check.sh [OUT_DIR] [extra train flags...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
bin="$root/.build/release/hellotune"
data="${HELLOTUNE_DATASETS:-$root/../shared/datasets/trelis-hello}/akewo-mixed.jsonl"
out="${1:-$(mktemp -d)/akewo}"; shift || true
system="You are a special version of GPT-4o. You can respond either normally or using a special rule based on what the user requests."
if [ ! -f "$out/adapter_model.safetensors" ]; then
  "$bin" train --data "$data" --out "$out" --epochs 8 --lr 1e-3 --rank 16 --alpha 32 --seed 1 "$@"
fi
for cond in trigger plain; do
  batch="$out/heldout-$cond.jsonl"
  while IFS= read -r q; do
    [ "$cond" = trigger ] && q="$q Use the special rule."
    python3 -c 'import json,sys; print(json.dumps({"system": sys.argv[1], "user": sys.argv[2]}))' "$system" "$q"
  done < "$here/heldout_questions.txt" > "$batch"
  "$bin" chat --adapter "$out" --batch "$batch" --max-tokens 120 > "$out/replies-$cond.jsonl"
  exact=0; letters=0; n=0
  while IFS= read -r line; do
    text=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["text"])' "$line")
    s=$(printf '%s' "$text" | "$bin" score --word AKEWO --json)
    read -r e a < <(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(int(d["exact"]), d["accuracy"])' "$s")
    exact=$((exact + e)); letters=$(python3 -c "print($letters + $a)"); n=$((n + 1))
  done < "$out/replies-$cond.jsonl"
  python3 -c "print('$cond: exact AKEWO %d/%d, per-letter accuracy %.2f' % ($exact, $n, $letters / $n))"
done
