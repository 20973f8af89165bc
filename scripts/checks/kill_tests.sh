#!/usr/bin/env bash
# The crash-safety suite on its own (it also runs in `swift test`): kill -9 of training workers, of
# `hellotune run` and of the terminal UI during evaluations, a checkpoint write on a full disk, and
# processes writing the store at once. Prints each test's trial lines and the "N/20 trials" summaries.
#   scripts/checks/kill_tests.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
filter='WorkerCLITests|RunKillCLITests|ExploreCLITests|TrainCLITests.testCheckpointWrite|StoreTests|JobsCLITests.testStoreFromANewer'
swift test -c release --disable-testable-imports --filter "$filter" 2>&1 \
    | grep -E "^(trial|UI kill|worker kill|run kill|store under)|Test Case .*(passed|failed)|error:|Executed"
exit "${PIPESTATUS[0]}"
