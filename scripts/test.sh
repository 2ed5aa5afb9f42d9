#!/usr/bin/env bash
# The test command: style and workflow lint first (seconds), then the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export PATH="$PWD/$VENV/bin:$PATH"
ruff check src tests benchmarks
ruff format --check src tests benchmarks
snakefmt --check Snakefile rules/
snakemake --lint
python -m pytest -q -ra "$@"
