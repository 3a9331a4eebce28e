#!/usr/bin/env bash
# Installs missing packages, builds, and runs the test suite (GPU tests skip without a GPU). Then
# the hostile-input stage (docs/reliability.md): the CPU suite again, built with AddressSanitizer
# + UndefinedBehaviorSanitizer, and every fuzz target for a fixed number of executions with a
# fixed seed. `--quick` stops after the first suite.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  "" | --quick) ;;
  *) echo "usage: scripts/test.sh [--quick]" >&2; exit 2 ;;
esac
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)"
[ "${1:-}" = --quick ] && exit 0
bash scripts/sanitize.sh
bash scripts/fuzz.sh
