"""The paper configs validate against the schema and plan the full experiment (dry run), run as
a user runs them: from the repository root, with nothing of the toy default underneath."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")  # .venv/bin/snakemake under scripts/test.sh


@pytest.mark.parametrize("name,k,lam", [("paper_marco_o1.yaml", 16, 2.0), ("paper_qwq.yaml", 12, 5.0)])
def test_paper_config_validates_and_dry_runs(name, k, lam):
    cfg = yaml.safe_load((REPO / "config" / name).read_text())
    assert cfg["sampling"]["k"] == k and cfg["reward"]["lambda"] == lam
    assert cfg["sampling"]["temperature"] == 0.5 and cfg["sampling"]["top_p"] == 0.8
    assert cfg["sampling"]["max_new_tokens"] == 8192 and cfg["evaluation"]["max_new_tokens"] == 8192
    cmd = [SNAKEMAKE, "-n", "--configfile", f"config/{name}"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=REPO)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    for rule in [
        "prepare_dataset",
        "presample",
        "reference_stats",
        "draw",
        "reference_logprobs",
        "rewards",
        "baseline_trainset",
        "finetune",
        "evaluate",
        "report",
    ]:
        assert rule in out
    assert "toy_reference" not in out and "pick_hyperparameters" not in out  # nothing of the toy's
    assert f"config: config/{name} (" in result.stderr  # composed of this file alone
    # Each job's GPUs come from the config, on one machine as under SLURM: vLLM's tensor-parallel
    # group for a generating job, one node of 8 for training and for the reference log-probs,
    # which are launched as training is (with 0 they ran in one process: the sharded model whole).
    tp = cfg["vllm"]["tensor_parallel_size"]
    assert gpus_per_rule(out) == {"presample_shard": {tp}, "reference_logprobs": {8}, "finetune": {8}, "evaluate": {tp}}


def gpus_per_rule(dry_run: str) -> dict[str, set[int]]:
    """The `gpu` resource of each job of a dry run's listing, by rule (rules without one left out)."""
    found: dict[str, set[int]] = {}
    for rule, resources in re.findall(r"^rule (\w+):\n(?:    .*\n)*?    resources: (.*)$", dry_run, re.M):
        gpu = re.search(r"\bgpu=(\d+)", resources)
        if gpu:
            found.setdefault(rule, set()).add(int(gpu.group(1)))
    return found


@pytest.mark.parametrize("overlays", [(), ("r1_distill_qwen_7b.yaml",)])
def test_r1_distill_config_validates_and_plans_greedy_and_sampled_evaluation(overlays):
    """DeepSeek-R1-Distill-Qwen (1.5B; 7B by the overlay) on MATH-500, AIME24/25, AMC23, GSM8K and
    OlympiadBench: DeepSeek's sampling settings, 16 samples on the small sets, 4 elsewhere."""
    from o1pruner.config.checks import sampled_per_dataset
    from o1pruner.config.load import load_config
    from o1pruner.job_settings import token_cap

    files = [REPO / "config" / "r1_distill_qwen.yaml", *(REPO / "config" / o for o in overlays)]
    cfg = load_config(*files)
    assert cfg["model"]["name"] == ("r1-distill-qwen-7b" if overlays else "r1-distill-qwen-1.5b")
    assert set(cfg["datasets"]["test"]) == {"math500", "aime24", "aime25", "amc23", "gsm8k", "olympiadbench"}
    sampled = cfg["evaluation"]["sampled"]
    assert (sampled["temperature"], sampled["top_p"]) == (0.6, 0.95) and cfg["sampling"]["top_p"] == 0.95
    assert sampled_per_dataset(cfg) == {
        "math500": 4, "aime24": 16, "aime25": 16, "amc23": 16, "gsm8k": 4, "olympiadbench": 4
    }  # fmt: skip
    caps = {d: token_cap(cfg, d) for d in cfg["datasets"]["test"]}
    assert caps["gsm8k"] == 8192 and caps["aime24"] == 16384
    assert cfg["vllm"]["max_model_len"] >= max(caps.values()) + 1024
    assert cfg["prompt"]["thinking_end"] == "</think>" and cfg["evaluation"]["budget_forcing"]["budgets"]
    cmd = [SNAKEMAKE, "-n", "--configfile", *(str(f.relative_to(REPO)) for f in files)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=REPO)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    for dataset in cfg["datasets"]["test"]:
        assert f"results/eval/{cfg['model']['name']}/{dataset}/reference.sampled.json" in out, dataset
        assert f"results/eval/{cfg['model']['name']}/{dataset}/o1_pruner-seed0.budget1024.json" in out, dataset
