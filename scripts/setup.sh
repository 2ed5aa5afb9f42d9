#!/usr/bin/env bash
# One-command set-up on a fresh machine: a virtual environment in .venv with the pinned packages
# and this project (editable).
#   bash scripts/setup.sh            the workflow
#   bash scripts/setup.sh --slurm    + the SLURM executor plugin (for --profile profiles/slurm)
#   bash scripts/setup.sh --test     + pytest, ruff, snakefmt and the SLURM plugin (scripts/test.sh runs this)
#
# torch 2.13.0 is installed first, so nothing later can pull another build:
#   - no NVIDIA GPU (nvidia-smi finds none): the CPU build (~200 MB) from PyTorch's CPU index.
#     If that index cannot be reached, pip's configured sources are used, and the script says
#     whether they gave the CPU build or the CUDA one (PyPI's Linux wheel is the CUDA build,
#     several GB; it runs on a CPU too).
#   - an NVIDIA GPU: PyPI's build, which bundles CUDA 12/13 libraries. For another CUDA version
#     install torch yourself first (TORCH_INDEX_URL=https://download.pytorch.org/whl/cu126, say).
# TORCH_VARIANT=cpu|cuda overrides the detection.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
TORCH_VERSION=2.13.0
CPU_INDEX=https://download.pytorch.org/whl/cpu
EXTRAS=()
for arg in "$@"; do
  case "$arg" in
    --test) EXTRAS+=(requirements-test.txt) ;;
    --slurm) EXTRAS+=(requirements-slurm.txt) ;;
    *) echo "setup.sh: unknown option $arg (use --test or --slurm)" >&2; exit 2 ;;
  esac
done

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install --quiet --upgrade pip

installed_torch() { "$VENV/bin/python" -c "import torch; print(torch.__version__, 'cuda' if torch.version.cuda else 'cpu')" 2>/dev/null || true; }

if [ -z "$(installed_torch)" ]; then
  variant=${TORCH_VARIANT:-}
  if [ -z "$variant" ]; then
    if command -v nvidia-smi > /dev/null && nvidia-smi -L > /dev/null 2>&1; then variant=cuda; else variant=cpu; fi
  fi
  if [ -n "${TORCH_INDEX_URL:-}" ]; then
    "${PIP[@]}" install --quiet "torch==$TORCH_VERSION" --index-url "$TORCH_INDEX_URL"
  elif [ "$variant" = cpu ]; then
    echo "torch: no NVIDIA GPU found, installing the CPU build of torch $TORCH_VERSION"
    if ! "${PIP[@]}" install --quiet --retries 1 --timeout 20 "torch==$TORCH_VERSION" \
      --index-url "$CPU_INDEX" --extra-index-url https://pypi.org/simple 2> /tmp/o1pruner-torch.err; then
      echo "torch: PyTorch's CPU index ($CPU_INDEX) could not be used; trying pip's configured sources"
      "${PIP[@]}" install --quiet "torch==$TORCH_VERSION"
    fi
  else
    echo "torch: NVIDIA GPU found, installing torch $TORCH_VERSION from PyPI (the CUDA build)"
    "${PIP[@]}" install --quiet "torch==$TORCH_VERSION"
  fi
  got=$(installed_torch)
  echo "torch: installed $got"
  if [ "$variant" = cpu ] && [[ "$got" == *cuda ]]; then
    echo "torch: note: only the CUDA build could be had here (several GB); it runs on this CPU too." \
      "For the small CPU build, make $CPU_INDEX reachable or set TORCH_INDEX_URL." >&2
  fi
fi

"${PIP[@]}" install --quiet -r requirements.txt
for extra in "${EXTRAS[@]}"; do "${PIP[@]}" install --quiet -r "$extra"; done
"${PIP[@]}" install --quiet --no-deps -e .
"$VENV/bin/o1pruner" --help > /dev/null
echo "set-up done in $VENV ($(installed_torch)); run the workflow with $VENV/bin/snakemake"
