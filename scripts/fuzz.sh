#!/usr/bin/env bash
# Runs each libFuzzer target of fuzz/ (clang, ASan + UBSan, CPU only; built with the sanitizer
# build of scripts/sanitize.sh, in its build folder) for a fixed number of executions with a
# fixed seed over its seed corpus and regression cases: repeatable, not time-bounded. Any finding
# (crash, sanitizer report, exception other than moeplan::Error, timeout, memory blow-up) fails
# the script; the input is kept under $MOEPLAN_SANITIZE_BUILD_DIR/findings/. Environment:
# FUZZ_RUNS (executions per target), FUZZ_SEED, FUZZ_TARGETS (space-separated subset),
# MOEPLAN_SANITIZE_BUILD_DIR (default build-sanitize).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${FUZZ_RUNS:-5000}
seed=${FUZZ_SEED:-1}
build=${MOEPLAN_SANITIZE_BUILD_DIR:-build-sanitize}

targets=()
for source in fuzz/targets/*.cpp; do targets+=("$(basename "$source" .cpp)"); done
[ -n "${FUZZ_TARGETS:-}" ] && read -r -a targets <<<"$FUZZ_TARGETS"
MOEPLAN_SANITIZE_BUILD_DIR=$build bash scripts/sanitize.sh --build-only

mkdir -p "$build/findings"
for target in "${targets[@]}"; do
  # libFuzzer adds the inputs it finds to its first corpus folder: give it a scratch copy so the
  # repository's corpus stays as committed and every run starts from the same inputs.
  scratch=$(mktemp -d)
  cp fuzz/corpus/"$target"/* "$scratch"/
  [ -d fuzz/regression/"$target" ] && cp fuzz/regression/"$target"/* "$scratch"/ 2>/dev/null || true
  echo "fuzz: $target, $runs executions, seed $seed"
  status=0
  "$build/fuzz/${target}_fuzz" -runs="$runs" -seed="$seed" -max_len=4096 -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$build/findings/$target-" "$scratch" 2>"$build/findings/$target.log" ||
    status=$?
  rm -rf "$scratch"
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$build/findings/$target.log" || true
  if [ "$status" -ne 0 ]; then
    tail -40 "$build/findings/$target.log"
    echo "fuzz: FINDING in $target (input under $build/findings/)" >&2
    exit 1
  fi
done
echo "fuzz: no finding in ${#targets[@]} targets"
