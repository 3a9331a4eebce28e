#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang, ASan + UBSan, CPU only) into their own build
# folder and runs each for a fixed number of executions with a fixed seed over its seed corpus
# and regression cases: repeatable, not time-bounded. Any finding (crash, sanitizer report,
# exception other than moeplan::Error, timeout, memory blow-up) fails the script; the input is
# kept under $FUZZ_BUILD_DIR/findings/. Environment: FUZZ_RUNS (executions per target),
# FUZZ_SEED, FUZZ_BUILD_DIR, FUZZ_TARGETS (space-separated subset).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${FUZZ_RUNS:-5000}
seed=${FUZZ_SEED:-1}
build=${FUZZ_BUILD_DIR:-build-fuzz}

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$build" -DMOEPLAN_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null

targets=()
for source in fuzz/targets/*.cpp; do targets+=("$(basename "$source" .cpp)"); done
[ -n "${FUZZ_TARGETS:-}" ] && read -r -a targets <<<"$FUZZ_TARGETS"
cmake --build "$build" -j"$(nproc)" --target "${targets[@]/%/_fuzz}"

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
