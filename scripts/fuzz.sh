#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (with the address sanitizer, in their own scratch folder
# .build-fuzz, so the release build in .build is untouched) and runs each one for SECONDS (default 600)
# on its seed corpus Fuzz/corpus/<target>/ plus what earlier runs found (.build-fuzz/corpus/<target>/).
# An input that takes over a second, a crash, a broken invariant, a sanitizer report or memory over the
# limit is a failure; its input is kept under .build-fuzz/artifacts/<target>/ to reproduce with
#   .build-fuzz/release/fuzz-<target> <file>
# Prints one line per target: name, executions, crashes and exec/s; exits non-zero on any failure.
# Usage: scripts/fuzz.sh [seconds] [target...]   (targets: gguf tokenizer chat-jsonl sse experiment-toml
# theme-toml acrostic; default all)
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift $(($# > 0 ? 1 : 0))
all=(gguf tokenizer chat-jsonl sse experiment-toml theme-toml acrostic)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all[@]}"); fi
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz: seconds must be a positive whole number, not '$seconds'" >&2
  exit 2
fi
for t in "${targets[@]}"; do
  if [ ! -d "Fuzz/corpus/$t" ]; then
    echo "fuzz: unknown target '$t'; targets: ${all[*]}" >&2
    exit 2
  fi
done

scratch=.build-fuzz
mkdir -p "$scratch"
# SwiftPM's --sanitize flags instrument the C targets and link the runtimes, but reach swiftc as two
# -sanitize= options of which swiftc keeps only the last, so Swift code would get no coverage
# instrumentation: the combined option is passed again after them. -O after the engine's -Ounchecked
# keeps bounds checks and preconditions on, so an out-of-range index traps where the fuzzer sees it.
build=(swift build -c release --package-path Fuzz --scratch-path "$scratch"
       --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address -Xswiftc -O)
echo "fuzz: building (log: $scratch/build.log)" >&2
if ! "${build[@]}" >"$scratch/build.log" 2>&1; then
  grep -E "error" "$scratch/build.log" >&2 || tail -n 30 "$scratch/build.log" >&2
  echo "fuzz: build failed (full log: $scratch/build.log)" >&2
  exit 1
fi
bin="$("${build[@]}" --show-bin-path)"

# Swift's own crash reporter would catch the trap before the sanitizer and libFuzzer do.
export SWIFT_BACKTRACE=enable=no
failed=0
for t in "${targets[@]}"; do
  corpus="$scratch/corpus/$t" artifacts="$scratch/artifacts/$t" log="$scratch/logs/$t.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  stamp="$scratch/logs/$t.start"
  touch "$stamp"
  # -timeout=1: any input slower than a second fails. -rss_limit_mb also caps single allocations.
  "$bin/fuzz-$t" -max_total_time="$seconds" -timeout=1 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$corpus" "Fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(grep -oE 'exec/s: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+')
  crashes=0 stalls=0
  while IFS= read -r f; do
    case "$(basename "$f")" in
      slow-unit-*)
        # libFuzzer also keeps an input whose run took over 10 s of wall time without tripping the
        # one-second timeout: the machine stalled. Replayed alone, a really slow input times out.
        if "$bin/fuzz-$t" -timeout=1 "$f" >>"$log" 2>&1; then stalls=$((stalls + 1)); else crashes=$((crashes + 1)); fi ;;
      *) crashes=$((crashes + 1)) ;;
    esac
  done < <(find "$artifacts" -type f -newer "$stamp")
  if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; fi
  note=""
  [ "$stalls" -gt 0 ] && note=" ($stalls slow unit(s) from machine stalls, under 1 s on replay)"
  echo "fuzz $t: ${runs:-0} executions, $crashes crashes, ${rate:-0} exec/s$note"
  if [ "$crashes" -ne 0 ]; then
    failed=1
    grep -E "ERROR: |invariant failed|Fatal error|SUMMARY|Test unit written to" "$log" | head -n 12 >&2
    echo "fuzz $t: FAILED (log: $log)" >&2
  fi
done
exit "$failed"
