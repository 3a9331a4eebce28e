#!/usr/bin/env bash
# Installs the Debian packages moeplan needs (only the missing ones). Idempotent.
# CUDA, cuBLAS and cuDNN come with the CUDA toolkit preinstalled on these machines (nvcc on PATH);
# without nvcc the CUDA trainer is simply not built.
set -euo pipefail
packages=(
  cmake g++ make pkg-config
  libboost-program-options-dev   # CLI
  libeigen3-dev                  # CPU reference model, isoFLOP least squares
  libdlib-dev                    # L-BFGS / box-constrained optimisation (header-only; BLAS bindings off)
  libgtest-dev                   # tests
  clang libfuzzer-14-dev         # fuzz targets (scripts/fuzz.sh: libFuzzer, ASan, UBSan)
  nlohmann-json3-dev             # JSON reports, presets, configs
  libsentencepiece-dev           # BPE tokenizer for `data prepare`
  gnuplot-nox                    # plots in the Markdown report
  slurmctld slurmd slurm-client munge  # the Slurm test: a one-node cluster (tests/slurm/)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all packages present"
fi
