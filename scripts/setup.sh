#!/usr/bin/env bash
# One-command set-up on a fresh machine (CPU): a virtual environment in .venv with the pinned
# packages and this project installed editable. torch is installed first and pinned, so no
# dependency resolution can pull a multi-GB CUDA build; for GPUs see README "GPU set-up".
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "torch==2.13.0"
"$VENV/bin/python" -m pip install --quiet -r requirements.txt
"$VENV/bin/python" -m pip install --quiet --no-deps -e .
"$VENV/bin/o1pruner" --help > /dev/null
echo "set-up done: activate with 'source $VENV/bin/activate'"
