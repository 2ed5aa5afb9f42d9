"""The paper configs validate against the schema and plan the full experiment (dry run)."""

import subprocess
from pathlib import Path

import pytest
import yaml
from helpers import snakemake_cmd

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name,k,lam", [("paper_marco_o1.yaml", 16, 2.0), ("paper_qwq.yaml", 12, 5.0)])
def test_paper_config_validates_and_dry_runs(tmp_path, name, k, lam):
    cfg = yaml.safe_load((REPO / "config" / name).read_text())
    assert cfg["sampling"]["k"] == k and cfg["reward"]["lambda"] == lam
    assert cfg["sampling"]["temperature"] == 0.5 and cfg["sampling"]["top_p"] == 0.8
    assert cfg["sampling"]["max_new_tokens"] == 8192 and cfg["evaluation"]["max_new_tokens"] == 8192
    cmd = snakemake_cmd(tmp_path, REPO / "config" / name, "-n")
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    for rule in [
        "prepare_dataset",
        "presample",
        "reference_stats",
        "draw",
        "reference_logprobs",
        "rewards",
        "select",
        "finetune",
        "evaluate",
        "report",
    ]:
        assert rule in out
    assert "toy_reference" not in out
