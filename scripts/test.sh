#!/usr/bin/env bash
# The test command, set-up included: the venv with the test tools and the vLLM environment
# (scripts/setup.sh --test --vllm),
# then style and workflow lint (seconds), then the test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
bash scripts/setup.sh --test --vllm
BIN="$VENV/bin"
"$BIN/ruff" check src tests benchmarks scripts
"$BIN/ruff" format --check src tests benchmarks scripts
"$BIN/snakefmt" --check Snakefile rules/
"$BIN/snakemake" --lint
"$BIN/python" -m pytest -q -ra --durations=40 "$@"
