#!/usr/bin/env bash
# The whole test suite: set up (packages, build, default model), then every test in release mode
# (numeric code is far too slow in debug builds), then the terminal UI driven through tmux (two scripts),
# then every fuzz target for about 30 s. Ends with one line "tests: N passed, M failed" counting all of
# them (each tmux script and the fuzzing count as one test each).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/setup.sh" || exit 1
cd "$here/.."
# The tests check the engine's numbers under the BLAS kernel that hellotune itself runs (BLASKernel picks it from
# the CPU's flags and re-executes the binary; a test process cannot). Left to itself, OpenBLAS 0.3.21 falls back to
# "Prescott" on recent Xeons and EPYCs, whose sgemm rounds differently enough to move the 8-bit path's drift from
# the oracle (0.29 with SkylakeX) past the tests' bound (0.60 with Prescott).
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
  flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
  has() { for f in "$@"; do case "$flags" in *" $f "*) ;; *) return 1 ;; esac; done; }
  if has avx512f avx512vl avx512bw avx512dq; then export OPENBLAS_CORETYPE=SkylakeX
  elif has avx2 fma; then export OPENBLAS_CORETYPE=Haswell; fi
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
swift test -c release --disable-testable-imports "$@" 2>&1 | tee "$log"
unit=${PIPESTATUS[0]}
# The terminal UI as a user drives it, in tmux: the explorer, then `hellotune run` followed live.
e2e=0
e2e_passed=0
for script in tui_tmux.sh run_tmux.sh; do
    if "$here/../Tests/e2e/$script"; then e2e_passed=$((e2e_passed + 1)); else e2e=1; fi
done
# The parsers and scorers on fuzzed input (scripts/fuzz.sh: any crash or slow input fails).
"$here/fuzz.sh" 30
fuzz=$?
total=$(grep -E "^[[:space:]]*Executed [0-9]+ tests?, with [0-9]+ failures?" "$log" | tail -n 1 | sed -E 's/.*Executed ([0-9]+) tests?, with ([0-9]+) failures?.*/\1 \2/')
read -r run failed <<<"${total:-0 0}"
passed=$((run - failed + e2e_passed + (fuzz == 0 ? 1 : 0)))
failed=$((failed + 2 - e2e_passed + (fuzz == 0 ? 0 : 1)))
if [ "$unit" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "tests: $passed passed, $failed failed"
[ "$unit" -eq 0 ] && [ "$e2e" -eq 0 ] && [ "$fuzz" -eq 0 ]
