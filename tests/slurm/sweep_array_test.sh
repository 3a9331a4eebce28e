#!/usr/bin/env bash
# `moeplan sweep --emit-slurm` against a real Slurm: starts munge and a one-node cluster on
# localhost (slurmctld + slurmd, no cgroups, no accounting), submits the emitted job array for a
# tiny CPU sweep, waits for it, and checks the ledger (one ok row per run, no duplicates); then
# emits again, which writes only the runs not yet in the ledger (bracketing's) or says there are
# none. Always stops the daemons it started. Exits 77 (ctest's skip) where Slurm cannot start:
# not root, packages missing (scripts/install-deps.sh installs them), or the daemons fail.
# usage: sweep_array_test.sh MOEPLAN_BINARY SOURCE_DIR
set -uo pipefail
moeplan=$1
source_dir=$2
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "not root (slurmd and munged need it)"
for tool in slurmctld slurmd sbatch squeue munged munge unmunge; do
  command -v "$tool" >/dev/null || skip "$tool not installed (scripts/install-deps.sh)"
done

tmp=$(mktemp -d /tmp/moeplan-slurm-XXXXXX)
started_munge=""
cleanup() {
  for pidfile in "$tmp/slurmd.pid" "$tmp/slurmctld.pid"; do
    [ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
  done
  [ -n "$started_munge" ] && [ -s /run/munge/munged.pid ] && kill "$(cat /run/munge/munged.pid)" 2>/dev/null
  sleep 1
  rm -rf "$tmp"
}
trap cleanup EXIT

# munge: reuse a running one, else start it as the munge user.
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  mkdir -p /run/munge /var/log/munge /var/lib/munge && chown munge:munge /run/munge
  chown -R munge:munge /var/log/munge /var/lib/munge /etc/munge
  runuser -u munge -- munged || skip "munged does not start"
  started_munge=1
  sleep 1
  munge -n | unmunge >/dev/null 2>&1 || skip "munge does not work"
fi

host=$(hostname -s)
port=$((20000 + RANDOM % 20000))
memory_mb=$(awk '/MemTotal/ {print int($2 / 1024 / 2)}' /proc/meminfo)
mkdir -p "$tmp/state" "$tmp/spool"
export SLURM_CONF=$tmp/slurm.conf
cat > "$SLURM_CONF" <<CONF
ClusterName=moeplantest
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
NodeName=$host CPUs=$(nproc) RealMemory=$memory_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -f "$SLURM_CONF" -L "$tmp/slurmctld.log" || skip "slurmctld does not start"
slurmd -f "$SLURM_CONF" -L "$tmp/slurmd.log" || skip "slurmd does not start"
for _ in $(seq 30); do
  sinfo -h -o %t 2>/dev/null | grep -q idle && break
  sleep 1
done
sinfo -h -o %t 2>/dev/null | grep -q idle || { tail -5 "$tmp"/*.log; skip "the node does not come up"; }

fail() { echo "FAIL: $*"; tail -20 "$tmp"/sweep/slurm/*.out 2>/dev/null; exit 1; }

# A tiny byte-level corpus from the repository's own text.
"$moeplan" data prepare --tokenizer bytes --input "$source_dir/README.md" \
  --input "$source_dir/docs" --out "$tmp/data" >/dev/null || fail "data prepare"
sweep=("$moeplan" sweep --data "$tmp/data" --budgets 1e10,2e10 --sparsities 0,0.5 --sizes 2
       --context 64 --val-tokens 2048 --device cpu --out "$tmp/sweep")

# Submits the emitted array and waits for it (bounded); returns 1 when there was none to emit.
submit_and_wait() {
  if ! "${sweep[@]}" --emit-slurm "$tmp/array.sh" --jobs 2 2>"$tmp/emit.err"; then
    grep -q "no runs to submit" "$tmp/emit.err" && return 1
    cat "$tmp/emit.err"; fail "emit-slurm"
  fi
  grep -q "^#SBATCH --array=.*%2$" "$tmp/array.sh" || fail "no %2 concurrency limit"
  job=$(sbatch --parsable "$tmp/array.sh") || fail "sbatch refused the script"
  for _ in $(seq 150); do
    [ -z "$(squeue -h -j "${job%%;*}" 2>/dev/null)" ] && return 0
    sleep 1
  done
  fail "the array did not finish in 150 s"
}

submit_and_wait || fail "the first emit had no runs"
rounds=1
while [ $rounds -lt 4 ] && submit_and_wait; do rounds=$((rounds + 1)); done

runs=$(grep -c '"key"' "$tmp/sweep/runs.json")
rows=$(tail -n +2 "$tmp/sweep/runs.csv" | grep -c .)
ok=$(tail -n +2 "$tmp/sweep/runs.csv" | cut -d, -f2 | grep -c '^ok$')
keys=$(tail -n +2 "$tmp/sweep/runs.csv" | cut -d, -f1 | sort -u | grep -c .)
echo "runs $runs, ledger rows $rows, ok $ok, distinct keys $keys, arrays submitted $rounds"
[ "$runs" -ge 4 ] || fail "expected at least 4 runs, got $runs"
[ "$rows" -eq "$runs" ] || fail "ledger has $rows rows for $runs runs"
[ "$ok" -eq "$runs" ] || fail "only $ok of $runs rows are ok"
[ "$keys" -eq "$rows" ] || fail "duplicate keys in the ledger"
again=$("${sweep[@]}" --emit-slurm "$tmp/again.sh" 2>&1)
grep -q "no runs to submit" <<<"$again" || fail "a finished sweep still emits runs: $again"
[ ! -e "$tmp/again.sh" ] || fail "a refused emit wrote its file"
echo PASS
