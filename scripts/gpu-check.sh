#!/usr/bin/env bash
# The GPU check, for a machine with one CUDA GPU and torch/transformers/accelerate/peft/pandas/
# pyarrow already installed (no package registry needed): bf16 mixed-precision training against
# fp32 and pure bf16, pre-sampling and greedy evaluation on CUDA with tokens/s, a GRPO run, CUDA
# vLLM's per-request seeds (one job against two shards; where .venv-vllm exists), then
# R1-Distill-Qwen-1.5B's shape (random weights, real tokenizer): peak memory against the estimate.
#   bash scripts/gpu-check.sh [WHEELS_DIR]
# WHEELS_DIR holds the small wheels that machine lacks; make it where a registry is reachable:
#   pip download --no-deps -d wheels trl==1.16.0 math-verify==0.9.0 latex2sympy2-extended==1.11.0 \
#     antlr4-python3-runtime==4.13.2 datasets==5.2.0 dill==0.4.1
# and, for each Python the machine may have (--python-version 3.10 ... 3.14, --only-binary=:all:),
#   xxhash==4.1.0 multiprocess==0.70.19
# (vLLM cannot travel: its wheel is over 300 MB). Took 65 s on one H100 (docs/scale-out.md).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ $# -ge 1 ]; then
  # by name, so pip picks the wheel that fits this Python where several are carried
  names=$(ls "$1"/*.whl | xargs -n1 basename | cut -d- -f1 | sort -u)
  # shellcheck disable=SC2086
  "$PYTHON" -m pip install --quiet --no-index --no-deps --find-links "$1" $names
fi
"$PYTHON" -c "import torch; print('nvidia:', torch.cuda.is_available())"
timeout 480 "$PYTHON" scripts/gpu_check.py
