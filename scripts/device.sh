#!/usr/bin/env bash
# Everything the GPU machine has to check, in one call from the repo root, in about 9 minutes:
#
#   here, after building build/ with CUDA:   bash scripts/device.sh pack
#     copies what the device run needs into build-device/ (git-ignored, a few MB): cli/moeplan
#     and the CUDA trainer it opens, cli/libmoeplan_cuda.so (also put next to the test binaries),
#     the gpu-label test binaries with their ctest files (test lists discovered here), and the
#     shared libraries the binaries need that the GPU image lacks (Debian's sentencepiece).
#   on the GPU machine (run tool, carry ["build-device", "bench/ref"]):   bash scripts/device.sh
#     bench/ref/torch_moe_ref.py is a copy of shared/bench/torch_moe_ref.py. A carried full
#     build/ also works once `pack` has run (it then holds device-libs/); MOEPLAN_BUILD chooses.
#
# Sections, each under its own time limit; one that fails is recorded and the next still runs:
#   device     nvidia-smi, PyTorch and cuDNN versions, missing libraries, `moeplan train --info`
#   gpu-tests  ctest -L gpu (kernels vs double loops, cuDNN vs reference attention, CUDA vs CPU
#              training step)
#   compare    200 steps of a small model on byte-level shards of this machine's Python sources,
#              by moeplan (--save-init, --dump-batches, --log) and by PyTorch from the same
#              initial weights on the same batches, in bf16 autocast and in fp32 as the yardstick
#              for bf16 noise (bench/torch_compare.py)
#   repeat     the same 30-step run twice, with cuDNN and with the reference attention, and once
#              as 15 steps + --resume: the checkpoints (weights, AdamW state) and logged losses
#              must be identical bytes
#   bench      tokens/s and MFU on the four SPEC §6 bench models, ours vs torch.compile
#              (bench/bench_train_gpu.sh)
#   sanitizer  (only when named) every gpu test binary under compute-sanitizer, memcheck then
#              racecheck; a finding fails the section (docs/reliability.md). It works on the
#              Firecracker machines only (KINDS.md): "Device not supported" means gVisor.
# Results in $OUT (default ./device-out), 8 files: summary.txt, device.txt, gpu_tests.log,
# compare.log, compare.json, repeat.log, bench.log, bench.json (and sanitizer.log when named).
# Scratch in $MOEPLAN_WORK (/tmp/moeplan-device).
# The exit status is 0 only when every section passed. MOEPLAN_DEVICE_SECTIONS (default "device
# gpu-tests compare repeat bench") runs only the sections named. MOEPLAN_TRAIN_DEVICE=cpu (and
# BENCH_DEVICE=cpu) dry-run the compare and bench plumbing on a machine without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
GPU_TESTS=$(for f in tests/gpu/*_test.cpp; do basename "$f" .cpp; done)
LIB_DIR=device-libs

# Shared libraries of BIN that are neither glibc/GCC runtime nor CUDA's (cuBLAS, cuDNN come
# with the GPU image's CUDA toolkit and PyTorch wheels).
extra_libs() {
  ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' |
    grep -vE '/(libc|libm|libdl|librt|libpthread|libgcc_s|libstdc\+\+|ld-linux[^/]*)\.so' |
    grep -vE '/lib(cu|nv)[^/]*\.so' || true
}

if [ "${1:-}" = pack ]; then
  SRC=${MOEPLAN_BUILD:-build}
  DST=build-device
  [ -x "$SRC/cli/moeplan" ] || { echo "no $SRC/cli/moeplan: build first" >&2; exit 1; }
  TRAINER=$SRC/cli/libmoeplan_cuda.so  # the CUDA trainer moeplan opens with dlopen
  [ -f "$TRAINER" ] || { echo "$SRC was built without CUDA (no $TRAINER)" >&2; exit 1; }
  ctest --test-dir "$SRC" -L gpu -N >/dev/null  # discovers the test lists (runs no test)
  rm -rf "$DST"
  mkdir -p "$DST/cli" "$DST/tests" "$DST/$LIB_DIR"
  cp "$SRC/cli/moeplan" "$TRAINER" "$DST/cli/"
  cp "$TRAINER" "$DST/tests/"
  sed -n 's/^CMAKE_CACHEFILE_DIR:INTERNAL=//p' "$SRC/CMakeCache.txt" >"$DST/ORIGIN"
  echo 'subdirs("tests")' >"$DST/CTestTestfile.cmake"
  for t in $GPU_TESTS; do
    [ -x "$SRC/tests/$t" ] || { echo "no $SRC/tests/$t: build the gpu tests first" >&2; exit 1; }
    cp "$SRC/tests/$t" "$SRC/tests/${t}[1]_include.cmake" "$SRC/tests/${t}[1]_tests.cmake" \
      "$DST/tests/"
    grep -F "/${t}[1]_include.cmake" "$SRC/tests/CTestTestfile.cmake" >>"$DST/tests/CTestTestfile.cmake"
  done
  mkdir -p "$SRC/$LIB_DIR"
  for lib in $(extra_libs "$SRC/cli/moeplan") $(extra_libs "$TRAINER"); do
    cp -L "$lib" "$DST/$LIB_DIR/"
    cp -L "$lib" "$SRC/$LIB_DIR/"
  done
  echo "packed $DST: $(du -sh "$DST" | cut -f1) (libraries: $(ls "$DST/$LIB_DIR" | tr '\n' ' '))"
  echo "$SRC: $(du -sh "$SRC" | cut -f1) (the run tool carries at most 64 MiB with the tree)"
  exit 0
fi

# ---- on the GPU machine ----
OUT=${OUT:-$ROOT/device-out}
WORK=${MOEPLAN_WORK:-/tmp/moeplan-device}
BUDGET=${MOEPLAN_DEVICE_SECONDS:-540}
DEADLINE=$(($(date +%s) + BUDGET))
if [ -n "${MOEPLAN_BUILD:-}" ]; then BUILD=$MOEPLAN_BUILD
elif [ -d build-device ]; then BUILD=build-device
else BUILD=build; fi
BIN=$ROOT/$BUILD/cli/moeplan
mkdir -p "$OUT"
rm -rf "$WORK"
mkdir -p "$WORK"
: >"$OUT/summary.txt"
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1

# Libraries: the carried ones (pack), CUDA's, and those of the PyTorch wheels (cuDNN, cuBLAS).
SITE=$(python3 -c 'import site; print(site.getsitepackages()[0])' 2>/dev/null || echo /nonexistent)
LIBS=$ROOT/$BUILD/$LIB_DIR
for d in /usr/local/cuda/lib64 /usr/local/cuda/lib $(find "$SITE/nvidia" -maxdepth 3 -type d -name lib 2>/dev/null | sort); do
  LIBS=$LIBS:$d
done
export LD_LIBRARY_PATH=$LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export ROOT OUT WORK BIN BUILD SITE DEADLINE GPU_TESTS

note() { echo "$*" | tee -a "$OUT/summary.txt"; }
status=0
# section NAME LIMIT LOG FUNCTION: runs FUNCTION (exported) under a time limit capped by the
# deadline, its output to LOG and its status to summary.txt.
section() {
  local name=$1 limit=$2 log=$3 fn=$4 rc=0 t0=$SECONDS
  case " ${MOEPLAN_DEVICE_SECTIONS:-device gpu-tests compare repeat bench} " in
    *" $name "*) ;;
    *) note "$name: not run (MOEPLAN_DEVICE_SECTIONS)"; return 0 ;;
  esac
  local left=$((DEADLINE - $(date +%s) - 5))
  [ "$left" -lt "$limit" ] && limit=$left
  if [ "$limit" -lt 15 ]; then
    note "$name: SKIPPED (only ${limit}s left of ${BUDGET}s)"
    status=1
    return 0
  fi
  echo "== $name (limit ${limit}s)"
  timeout -k 10 "$limit" bash -c "set -euo pipefail; $fn" >"$log" 2>&1 || rc=$?
  if [ "$rc" -eq 0 ]; then
    note "$name: ok in $((SECONDS - t0))s"
  else
    note "$name: FAILED rc $rc in $((SECONDS - t0))s$([ "$rc" -eq 124 ] && echo ' (time limit)') - see $(basename "$log")"
    status=1
  fi
  tail -n 25 "$log"
}

device_info() {
  date -u
  nvidia-smi || echo "nvidia-smi failed"
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(), torch.cuda.get_device_name(0))' || echo "no torch"
  command -v ctest cmake nvcc || true
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  local trainer
  trainer=$(dirname "$BIN")/libmoeplan_cuda.so
  echo "--- ldd $BIN and $trainer (opened by train --device cuda)"
  ldd "$BIN" "$trainer"
  if ldd "$BIN" "$trainer" | grep -q 'not found'; then
    echo "missing libraries: run 'bash scripts/device.sh pack' on the dev machine and carry build-device"
    exit 1
  fi
  echo "--- moeplan train --info"
  "$BIN" train --info --device cuda
}

gpu_tests() {
  # The ctest files name the build folder by its path on the dev machine: point them here. Then
  # the discovered test lists must look newer than the binaries, or ctest rediscovers them with
  # the dev machine's CMake module path.
  local orig
  orig=$(cat "$BUILD/ORIGIN" 2>/dev/null || sed -n 's/^CMAKE_CACHEFILE_DIR:INTERNAL=//p' "$BUILD/CMakeCache.txt")
  if [ -n "$orig" ] && [ "$orig" != "$ROOT/$BUILD" ]; then
    find "$BUILD" -maxdepth 2 -name '*.cmake' -print0 | xargs -0 sed -i "s#$orig#$ROOT/$BUILD#g"
    echo "$ROOT/$BUILD" >"$BUILD/ORIGIN"  # rewritten: a second run must not rewrite again
    echo "(ctest files moved from $orig to $ROOT/$BUILD)"
  fi
  local have_lists=1
  for t in $GPU_TESTS; do [ -f "$BUILD/tests/${t}[1]_tests.cmake" ] || have_lists=0; done
  if command -v ctest >/dev/null && [ "$have_lists" = 1 ]; then
    touch "$BUILD"/tests/*"[1]_tests.cmake"
    ctest --test-dir "$BUILD" -L gpu -j 4 --output-on-failure --timeout 120
  else
    echo "(no ctest or no discovered test lists: running the gpu test binaries directly)"
    local rc=0
    for t in $GPU_TESTS; do "$BUILD/tests/$t" || rc=1; done
    return $rc
  fi
}

compare() {
  # A few MB of text: this machine's PyTorch Python sources, as bytes (vocabulary 256).
  python3 - "$SITE" "$WORK/corpus.txt" <<'EOF'
import os, sys
site, out = sys.argv[1], sys.argv[2]
root = os.path.join(site, "torch") if os.path.isdir(os.path.join(site, "torch")) else site
total = 0
with open(out, "wb") as o:
    for d, dirs, fs in os.walk(root):
        dirs.sort()
        for f in sorted(fs):
            if f.endswith(".py") and total < 6_000_000:
                with open(os.path.join(d, f), "rb") as src:
                    data = src.read()
                o.write(data)
                total += len(data)
print(f"corpus: {total} bytes of Python sources under {root}")
EOF
  "$BIN" data prepare --input "$WORK/corpus.txt" --tokenizer bytes --out "$WORK/data"
  "$BIN" train --device "${MOEPLAN_TRAIN_DEVICE:-cuda}" --data "$WORK/data" --d-model 128 --layers 2 --heads 2 \
    --experts 8 --top-k 2 --granularity 2 --context 128 --batch 16 --steps 200 --lr 2e-3 \
    --warmup 0.05 --final-lr-fraction 0.1 --weight-decay 1e-5 --grad-clip 1.0 --seed 1 \
    --eval-every 50 --val-tokens 16384 --no-checkpoint --out "$WORK/run" \
    --save-init "$WORK/init.safetensors" --dump-batches "$WORK/batches.bin" \
    --log "$WORK/ours.jsonl" --summary "$WORK/ours_summary.json"
  python3 bench/torch_compare.py --init "$WORK/init.safetensors" --batches "$WORK/batches.bin" \
    --log "$WORK/ours.jsonl" --out "$OUT/compare.json"
}

repeat() {
  # A small corpus of this machine's Python sources, as bytes.
  local dir=$WORK/repeat
  mkdir -p "$dir"
  find "$SITE/torch" -name '*.py' | sort >"$dir/files.txt"  # (no head in the pipe: pipefail)
  sed -n 1,400p "$dir/files.txt" | xargs cat >"$dir/corpus.txt"
  "$BIN" data prepare --input "$dir/corpus.txt" --tokenizer bytes --out "$dir/data" >/dev/null
  local attention run
  local common=(--device cuda --data "$dir/data" --d-model 128 --layers 2 --heads 2 --experts 8
    --top-k 2 --granularity 2 --context 128 --batch 16 --steps 30 --lr 2e-3 --seed 1
    --eval-every 10 --val-tokens 16384)
  # Tensors compared byte for byte (the metadata names each run's own output paths).
  same_tensors() {
    python3 - "$1" "$2" <<'PY'
import json, struct, sys
def tensors(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8:8 + n])
    header.pop("__metadata__", None)
    return {k: b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]] for k, v in header.items()}
a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
differ = sorted(k for k in a if a[k] != b.get(k)) + sorted(set(b) - set(a))
print(f"{len(a)} tensors, {len(differ)} differ" + (": " + " ".join(differ[:12]) if differ else ""))
sys.exit(1 if differ else 0)
PY
  }
  # 15 steps, then --resume for the other 15, against 30 straight.
  "$BIN" train "${common[@]}" --out "$dir/split" --stop-after 15 >/dev/null
  "$BIN" train "${common[@]}" --out "$dir/split" --resume "$dir/split" >/dev/null
  for attention in cudnn reference; do
    for run in 1 2; do
      MOEPLAN_ATTENTION=$attention "$BIN" train "${common[@]}" \
        --out "$dir/$attention$run" --log "$dir/$attention$run.jsonl" >/dev/null
      # The log without its timings (step_seconds, tokens/s, MFU, ETA differ run to run).
      python3 -c 'import json,sys; [print(json.dumps({k:v for k,v in json.loads(l).items() if k not in ("step_seconds","tokens_per_s","mfu","eta_seconds","seconds","time")}, sort_keys=True)) for l in open(sys.argv[1])]' \
        "$dir/$attention$run.jsonl" >"$dir/$attention$run.losses"
    done
    if same_tensors "$dir/${attention}1/checkpoint.safetensors" "$dir/${attention}2/checkpoint.safetensors" &&
      cmp -s "$dir/${attention}1.losses" "$dir/${attention}2.losses"; then
      echo "attention $attention: two runs identical (checkpoint and losses, 30 steps)"
    else
      echo "attention $attention: the two runs DIFFER"
      diff "$dir/${attention}1.losses" "$dir/${attention}2.losses" | head -5 || true
      return 1
    fi
  done
  if same_tensors "$dir/cudnn1/checkpoint.safetensors" "$dir/split/checkpoint.safetensors"; then
    echo "resume: 15 steps + --resume 15 equal 30 straight (checkpoint)"
  else
    echo "resume: 15 + 15 steps DIFFER from 30 straight"
    return 1
  fi
}

bench() {
  BENCH_DEADLINE=$((DEADLINE - 10)) bash bench/bench_train_gpu.sh "$BIN" "$WORK/bench" "$OUT/bench.json"
}

gpu_sanitizer() {
  command -v compute-sanitizer >/dev/null || { echo "no compute-sanitizer on PATH"; exit 1; }
  local rc=0 tool t
  for tool in memcheck racecheck; do
    for t in $GPU_TESTS; do
      echo "--- compute-sanitizer --tool $tool $t"
      compute-sanitizer --tool "$tool" --error-exitcode 86 --print-limit 20 "$BUILD/tests/$t" ||
        { echo "FINDING or failure: $tool $t"; rc=1; }
    done
  done
  return $rc
}

export -f device_info gpu_tests compare repeat bench gpu_sanitizer
section device 60 "$OUT/device.txt" device_info
section gpu-tests 150 "$OUT/gpu_tests.log" gpu_tests
section compare 120 "$OUT/compare.log" compare
section repeat 120 "$OUT/repeat.log" repeat
[ -f bench/ref/torch_moe_ref.py ] || note "bench: bench/ref/torch_moe_ref.py is missing (carry bench/ref): torch rows will fail"
section bench 600 "$OUT/bench.log" bench
section sanitizer 400 "$OUT/sanitizer.log" gpu_sanitizer

# Headline numbers.
python3 - "$OUT" <<'EOF' | tee -a "$OUT/summary.txt" || true
import json, os, sys
out = sys.argv[1]
c = {}
try:
    c = json.load(open(os.path.join(out, "compare.json")))
    print(f"compare: {c['steps_compared']} steps, max rel loss diff {c['max_rel_diff_loss']:.4f} (step "
          f"{c['max_rel_diff_loss_step']}), step-1 diff {c['rel_diff_loss_step1']:.2e}, final loss "
          f"{c['final_loss']['moeplan']:.4f} vs torch {c['final_loss']['torch']:.4f}")
except Exception as ex:
    print("compare: no result:", repr(ex)[:200])
try:
    y, m = c.get("torch_bf16_vs_fp32"), c.get("moeplan_vs_torch_fp32")
    if y and m:
        k = "mean_signed_rel_diff_loss_last_half"
        print(f"compare yardstick, loss rel diff to torch fp32 (max / mean / last-half signed mean): "
              f"moeplan {m['max_rel_diff_loss']:.4f} / {m['mean_rel_diff_loss']:.4f} / {m[k]:+.2e}, "
              f"torch bf16 {y['max_rel_diff_loss']:.4f} / {y['mean_rel_diff_loss']:.4f} / {y[k]:+.2e}; "
              f"moeplan vs torch bf16 last-half signed mean {c[k]:+.2e}")
    elif c:
        print("compare yardstick: no fp32 arm in compare.json (--no-fp32?)")
except Exception as ex:
    print("compare yardstick: no result:", repr(ex)[:200])
try:
    for r in json.load(open(os.path.join(out, "bench.json")))["models"]:
        o, t = r.get("moeplan", {}), r.get("torch_compile", {})
        print(f"bench {r['cfg']}: moeplan {o.get('tokens_per_s_steady')} tok/s (MFU {o.get('mfu_steady')}), "
              f"torch.compile {t.get('tok_s')} tok/s (MFU {t.get('mfu_989')}), speedup {r.get('speedup')}")
except Exception as ex:
    print("bench: no result:", repr(ex)[:200])
EOF
note "done in $SECONDS s; status $status; results in $OUT"
exit "$status"
