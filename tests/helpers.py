"""Shared by the tests: a tiny random-init toy model, and the command lines they run."""

import json
import os
import random
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SYSTEM = "Answer in \\boxed{}."
LOCAL_SLURM = REPO.parent / "shared" / "tools" / "local-slurm.sh"


def tiny_toy_model(out: Path, n_problems: int, hidden: int = 32, layers: int = 1, n_train: int = 100):
    """Save a toy tokenizer+model in `out/model`; return (model_dir, problems.jsonl, train rows)."""
    from o1pruner.toy.model import make_toy_model
    from o1pruner.toy.tasks import Level, generate_toy_splits, write_solution
    from o1pruner.toy.tokenizer import train_tokenizer

    train, test = generate_toy_splits(0, n_train, n_problems, [Level(2, 9)])
    rng = random.Random(0)
    texts = [r["problem"] for r in train] + [write_solution(rng, r["worked"], True, 0.7) for r in train]
    tok = train_tokenizer(texts + [f"system\n{SYSTEM}\nuser\nassistant\n"], 600)
    model_dir = out / "model"
    make_toy_model(tok, hidden, layers, 2, 1, 2 * hidden, 256, seed=0).save_pretrained(model_dir)
    tok.save_pretrained(model_dir)
    problems = out / "problems.jsonl"
    problems.write_text("".join(json.dumps({k: r[k] for k in ("id", "problem", "answer")}) + "\n" for r in test))
    return model_dir, problems, train


def snakemake_cmd(workdir: Path, configfile: Path, *args: str) -> list[str]:
    """The line a user types in a checkout: `.venv/bin/snakemake --configfile FILE ARGS`, to be
    run with `cwd=workdir`. `workdir` is made a checkout of this repository first where it is
    not one (`user_checkout`): no `--directory`, no `-s`, no PATH change."""
    user_checkout(workdir)
    return [".venv/bin/snakemake", "--configfile", os.path.relpath(configfile, workdir), *args]


def user_checkout(workdir: Path) -> Path:
    """`workdir` as a user's checkout after `bash scripts/setup.sh`: the repository's tracked and
    unignored files, its environments linked, no results. Files already in `workdir` (a test's
    own config) stay."""
    if (workdir / "Snakefile").exists():
        return workdir
    _copy_tracked_files(workdir)
    for venv in (".venv", ".venv-vllm"):
        if (REPO / venv).exists():
            (workdir / venv).symlink_to(REPO / venv)
    return workdir


def _copy_tracked_files(dest: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, capture_output=True, check=True
    )
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)


def presample_args(model: Path, problems: Path, settings: str, out: Path, *extra: str) -> list[str]:
    """Arguments of `o1pruner presample` (for `o1pruner.cli.main`)."""
    return [
        "presample",
        "--model",
        str(model),
        "--problems",
        str(problems),
        "--settings",
        settings,
        "--out",
        str(out),
        *extra,
    ]


def workflow_config(*extra_files: Path) -> dict:
    """config/smoke.yaml (and `extra_files`) as the workflow sees it: checked, defaults filled in."""
    from o1pruner.config.load import load_config

    return load_config(REPO / "config" / "smoke.yaml", *extra_files)


def presample_settings(backend: str = "transformers", vllm: dict | None = None, **overrides) -> str:
    """`--settings` of `o1pruner presample` as the workflow builds them (smoke config), then `overrides`."""
    from o1pruner import job_settings

    config = workflow_config()
    config["sampling"]["backend"] = backend
    config["vllm"].update(vllm or {})
    return json.dumps({**_without_thinking(job_settings.presample_settings(config)), **overrides})


def evaluation_settings(run: str = "reference", backend: str = "transformers", vllm: dict | None = None, **overrides):
    """`--settings` of `o1pruner evaluate` for `run` as the workflow builds them, then `overrides`."""
    from o1pruner import job_settings

    config = workflow_config()
    config["evaluation"]["backend"] = backend
    config["vllm"].update(vllm or {})
    return json.dumps({**_without_thinking(job_settings.evaluation_settings(config, run, "toy")), **overrides})


def _without_thinking(settings: dict) -> dict:
    """The smoke toy has a thinking block; the tiny test models do not (pass thinking_end="</think>"
    as an override for a model that has one, e.g. the smoke run's reference)."""
    return {k: v for k, v in settings.items() if k != "thinking_end"}


def logprob_settings(**overrides) -> str:
    from o1pruner import job_settings

    return json.dumps({**job_settings.logprob_settings(workflow_config()), **overrides})


def training_settings(trainer: str = "o1_pruner", **overrides) -> dict:
    """The `train` stage's settings as the workflow passes them, from the schema's defaults of
    the `training` section (not the smoke config's), the model settings, then `overrides`."""
    from o1pruner.config.load import load_schema
    from o1pruner.job_settings import NOT_TRAINING_SETTINGS

    props = load_schema(REPO / "config" / "schema.yaml")["properties"]["training"]["properties"]
    settings = {k: v["default"] for k, v in props.items() if "default" in v and k not in NOT_TRAINING_SETTINGS}
    if trainer == "dpo":
        settings["dpo_beta"] = props["dpo_beta"]["default"]
    if trainer == "simpo":
        settings.update(simpo_beta=props["simpo_beta"]["default"], simpo_gamma=props["simpo_gamma"]["default"])
    if trainer == "grpo":
        settings["grpo"] = {
            "objective": "shorter_better",
            "objective_settings": {"alpha": 2.0, "beta": 0.01},
            "generations": 4,
            "max_completion_length": 16,
            "temperature": 1.0,
            "kl_beta": 0.0,
            # the optimiser's settings as the schema states them (TRL's defaults are not relied on)
            **{k: props["grpo"]["properties"][k]["default"] for k in ("scale_rewards", "loss_type")},
        }
    settings.update(dtype="float32", trust_remote_code=False, system_prompt=SYSTEM, answer_box="last")
    settings.update(overrides)
    return settings


def grpo_prompts(problems_path: Path, out: Path, mean_tokens: float) -> int:
    """A GRPO training set as the `prompts` rule writes it, for every problem of `problems_path`:
    the reference's mean length `mean_tokens` and accuracy 0.5 per problem. Returns how many."""
    import pandas as pd

    ids = [json.loads(line)["id"] for line in Path(problems_path).read_text().splitlines()]
    pd.DataFrame({"problem_id": ids, "mean_tokens": mean_tokens, "accuracy": 0.5}).to_parquet(out)
    return len(ids)


def o1_pruner_training_data(root: Path, n_rows: int = 16) -> Path:
    """A tiny random-init model, `n_rows` training problems and an O1-Pruner training set with
    random advantages and the model's own reference log-probs, under `root`."""
    import pandas as pd

    from o1pruner.toy.model import make_toy_model
    from o1pruner.toy.tasks import Level, generate_toy_splits, write_solution
    from o1pruner.toy.tokenizer import train_tokenizer
    from o1pruner.train.data import encode_examples
    from o1pruner.train.logprobs import mean_logprobs

    train, _ = generate_toy_splits(0, max(60, n_rows), 4, [Level(2, 9)])
    rng = random.Random(0)
    texts = [r["problem"] for r in train] + [write_solution(rng, r["worked"], True, 0.7) for r in train]
    tok = train_tokenizer(texts + [f"system\n{SYSTEM}\nuser\nassistant\n"], 600)
    model = make_toy_model(tok, 32, 2, 2, 1, 64, 256, seed=0)
    model.save_pretrained(root / "model")
    tok.save_pretrained(root / "model")
    rows = train[:n_rows]
    (root / "problems.jsonl").write_text(
        "".join(json.dumps({k: r[k] for k in ("id", "problem", "answer")}) + "\n" for r in rows)
    )
    ids = [
        tok(
            write_solution(rng, r["worked"], rng.random() < 0.5, 0.7) + tok.eos_token, add_special_tokens=False
        ).input_ids
        for r in rows
    ]
    ref = mean_logprobs(model, encode_examples(tok, [r["problem"] for r in rows], ids, SYSTEM, 256), tok.pad_token_id)
    df = pd.DataFrame(
        {
            "problem_id": [r["id"] for r in rows],
            "sample_idx": 0,
            "response_ids": ids,
            "advantage": [rng.gauss(0, 1) for _ in rows],
            "ref_logp": ref,
        }
    )
    df.to_parquet(root / "trainset.parquet")
    # DPO pairs as `o1pruner baseline-trainset` (shortest_vs_longest) writes them: a concise solution chosen over a
    # long-thought one, the prompt rendered by the trainer from the problem.
    pairs = [
        {
            "problem_id": r["id"],
            "chosen": write_solution(rng, r["worked"], False, 0.7),
            "rejected": write_solution(rng, r["worked"], True, 0.7),
        }
        for r in rows
    ]
    pd.DataFrame(pairs).to_parquet(root / "dpo.parquet")
    return root


def without_extra_evaluations(cfg: dict) -> dict:
    """A smoke config with greedy evaluation only (no sampled or budget-forced evaluation) and no
    ablation runs: for workflow tests about something else (training launchers, SLURM), to keep
    the suite short."""
    cfg["evaluation"]["sampled"]["samples_per_problem"] = {"default": 0}
    cfg["evaluation"]["budget_forcing"]["budgets"] = []
    cfg["ablations"] = {"lambdas": [], "difficulty": False}
    return cfg


def fresh_checkout(root: Path) -> Path:
    """A fresh copy of this checkout in `root/main` (`user_checkout`) with `shared/` beside it,
    and the repository's results, logs and Snakemake state copied where they exist (CI's quick
    start made them), as a user's checkout after the quick start has them."""
    copy = user_checkout(root / "main")
    subprocess.run(["git", "init", "-q"], cwd=copy, check=True)
    if (REPO.parent / "shared").exists():
        (root / "shared").symlink_to(REPO.parent / "shared")
    for kept in ("results", "logs", ".snakemake"):
        if (REPO / kept).exists():
            shutil.copytree(REPO / kept, copy / kept, symlinks=True, ignore=shutil.ignore_patterns("locks"))
    return copy


def run_in_checkout(command: str, cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    """`command` as a user types it in `cwd` (bash, the environment without pytest's variables)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))}
    return subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def tiny_qwen2(**config):
    """A seeded, randomly initialised Qwen2 causal LM of toy size (vocab 64, hidden 16, 4 layers,
    2 heads, 1 KV head), `config` overriding any of its dimensions."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    dims = dict(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=4, num_attention_heads=2,
                num_key_value_heads=1)  # fmt: skip
    return Qwen2ForCausalLM(Qwen2Config(**{**dims, **config}))


def local_slurm(action: str) -> subprocess.CompletedProcess:
    """`local-slurm.sh start|stop|status`: the single-node test cluster. `start` returns at once
    when it is up. The node is sized from the machine (nproc honours OMP_NUM_THREADS)."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["LOCAL_SLURM_CPUS"] = str(os.cpu_count())
    return subprocess.run(["bash", str(LOCAL_SLURM), action], capture_output=True, text=True, timeout=600, env=env)
