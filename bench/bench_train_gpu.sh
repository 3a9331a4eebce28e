#!/usr/bin/env bash
# Training throughput on the GPU: `moeplan train` against torch.compile on the four bench models
# of SPEC §6 (the shapes of shared/bench/torch_moe_ref.py's CFG), measured in the same call on
# the same GPU, both on uniformly random tokens.
#   ours:  moeplan train --device cuda --random-data --steps $BENCH_STEPS --no-checkpoint
#          --summary: tokens_per_s_steady (steps after the first 3) and mfu_steady (989 TFLOP/s)
#   torch: python3 bench/ref/torch_moe_ref.py --cfg NAME --modes compile (its own warm-up, then
#          $BENCH_TORCH_STEPS timed steps; one JSON line: tok_s, mfu_989, ...)
# FLOPs/token = 6·N_a + 12·L·T·d on both sides (SPEC §6).
#
# Usage: bench/bench_train_gpu.sh BIN WORKDIR RESULTS.json
# Environment (defaults): BENCH_MODELS ("tiny small medium sparse"), BENCH_STEPS (20),
#   BENCH_TORCH (1; 0 skips PyTorch), BENCH_TORCH_STEPS (10), BENCH_OURS_LIMIT (90 s a model),
#   BENCH_TORCH_LIMIT (150 s a model), BENCH_DEADLINE (epoch seconds by which all must end:
#   a run gets at most what is left, and is skipped under 20 s), BENCH_DEVICE (cuda; cpu for a
#   smoke test of this script).
# RESULTS.json: {"models": [{"cfg", "moeplan": {...}, "torch_compile": {...}, "speedup"}]};
# a failed or skipped run has "error" and its log's tail. Exit status 0 when every run worked.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 BIN WORKDIR RESULTS.json" >&2; exit 2; }
BIN=$1 WORK=$2 RESULTS=$3
cd "$(dirname "$0")/.."
MODELS=${BENCH_MODELS:-tiny small medium sparse}
STEPS=${BENCH_STEPS:-20}
DEADLINE=${BENCH_DEADLINE:-$(($(date +%s) + 600))}
mkdir -p "$WORK"

declare -A SHAPE=(  # torch_moe_ref.CFG: d L H E K G V T B
  [tiny]="256 4 4 8 1 1 8192 512 64"
  [small]="512 8 8 16 2 2 32768 1024 32"
  [medium]="1024 12 16 8 2 1 50432 2048 8"
  [sparse]="768 12 12 64 2 4 50432 2048 8"
)

# Seconds a run may take: its limit, capped by what is left before the deadline.
budget() {
  local left=$((DEADLINE - $(date +%s) - 5))
  echo $((left < $1 ? left : $1))
}

failed=0
run_limited() {  # NAME LIMIT LOG CMD...: runs CMD under timeout, output to LOG; returns its rc
  local name=$1 limit=$2 log=$3 rc=0
  shift 3
  if [ "$limit" -lt 20 ]; then
    echo "skipped: only ${limit}s left before the deadline" >"$log"
    echo "$name: skipped (out of time)"
    failed=1
    return 0
  fi
  local t0=$SECONDS
  timeout -k 10 "$limit" "$@" >"$log" 2>&1 || rc=$?
  echo "$name: rc $rc in $((SECONDS - t0)) s (limit ${limit} s)"
  [ "$rc" -eq 0 ] || { failed=1; tail -n 15 "$log"; }
  return 0
}

for name in $MODELS; do
  read -r d L H E K G V T B <<<"${SHAPE[$name]}"
  rm -f "$WORK/ours_$name.json"
  run_limited "moeplan $name" "$(budget "${BENCH_OURS_LIMIT:-90}")" "$WORK/ours_$name.log" \
    "$BIN" train --device "${BENCH_DEVICE:-cuda}" --random-data --d-model "$d" --layers "$L" --heads "$H" \
    --experts "$E" --top-k "$K" --granularity "$G" --vocab "$V" --context "$T" --batch "$B" \
    --steps "$STEPS" --eval-every "$STEPS" --val-tokens "$T" --no-checkpoint \
    --summary "$WORK/ours_$name.json" --log "$WORK/ours_$name.jsonl" --out "$WORK/run_$name"
done
if [ "${BENCH_TORCH:-1}" = 1 ]; then
  for name in $MODELS; do
    run_limited "torch.compile $name" "$(budget "${BENCH_TORCH_LIMIT:-150}")" \
      "$WORK/torch_$name.log" env PYTHONUNBUFFERED=1 python3 bench/ref/torch_moe_ref.py \
      --cfg "$name" --modes compile --steps "${BENCH_TORCH_STEPS:-10}" --warm 3
  done
fi

python3 - "$WORK" "$RESULTS" $MODELS <<'EOF'
import json, os, sys
work, results, models = sys.argv[1], sys.argv[2], sys.argv[3:]

def tail(path, n=12):
    try:
        with open(path, errors="replace") as f:
            return f.read().splitlines()[-n:]
    except OSError:
        return ["(no log)"]

rows = []
for name in models:
    row = {"cfg": name}
    try:
        with open(os.path.join(work, f"ours_{name}.json")) as f:
            s = json.load(f)
        row["moeplan"] = {k: s[k] for k in ("tokens_per_s_steady", "mfu_steady", "tokens_per_s", "mfu",
                                             "parameters", "active_parameters", "flops_per_token",
                                             "steps_this_run", "start_up_steps", "last_train_loss",
                                             "first_val_loss")}
    except (OSError, ValueError, KeyError) as ex:
        row["moeplan"] = {"error": repr(ex)[:200], "log_tail": tail(os.path.join(work, f"ours_{name}.log"))}
    log = os.path.join(work, f"torch_{name}.log")
    if os.path.exists(log):
        lines = [l for l in tail(log, 1000) if l.startswith("{")]
        try:
            row["torch_compile"] = json.loads(lines[-1])
        except (IndexError, ValueError):
            row["torch_compile"] = {"error": "no result line", "log_tail": tail(log)}
    ours = row["moeplan"].get("tokens_per_s_steady")
    theirs = row.get("torch_compile", {}).get("tok_s")
    if ours and theirs:
        row["speedup"] = ours / theirs
    rows.append(row)
with open(results + ".tmp", "w") as f:
    json.dump({"models": rows}, f, indent=1)
os.replace(results + ".tmp", results)
print(f"{'model':8} {'moeplan tok/s':>14} {'MFU':>6} {'torch tok/s':>12} {'MFU':>6} {'speedup':>8}")
for r in rows:
    o, t = r["moeplan"], r.get("torch_compile", {})
    fmt = lambda v, p: "-" if v is None else (f"{v:.{p}f}" if isinstance(v, float) else str(v))
    print(f"{r['cfg']:8} {fmt(o.get('tokens_per_s_steady'), 0):>14} {fmt(o.get('mfu_steady'), 3):>6} "
          f"{fmt(t.get('tok_s'), 0):>12} {fmt(t.get('mfu_989'), 3):>6} {fmt(r.get('speedup'), 2):>8}")
EOF
exit "$failed"
