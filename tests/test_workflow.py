"""The whole chain on the smoke-sized toy config, through Snakemake, in a temporary folder."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from helpers import snakemake_cmd, without_extra_evaluations

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def snakemake(workdir: Path, *args: str, config: Path | None = None) -> subprocess.CompletedProcess:
    cmd = snakemake_cmd(workdir, config or workdir / "config.yaml", *args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=1800, cwd=workdir)


def planned_jobs(result: subprocess.CompletedProcess) -> dict[str, int]:
    """The `Job stats` table of a dry run as {rule: count}."""
    text = result.stdout + result.stderr
    if "Nothing to be done" in text:
        return {}
    table = text.split("Job stats:", 1)[1]
    jobs = {}
    for line in table.splitlines()[3:]:
        m = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if not m:
            break
        if m.group(1) != "total":
            jobs[m.group(1)] = int(m.group(2))
    return jobs


def test_chain_produces_every_artifact(smoke):
    samples = pd.read_parquet(smoke / "results/samples/toy-qwen2-smoke/toy/samples.parquet")
    for col in ["problem_id", "sample_idx", "response", "n_tokens", "extracted_answer", "correct"]:
        assert col in samples.columns
    k = yaml.safe_load((smoke / "config.yaml").read_text())["sampling"]["k"]
    assert samples.groupby("problem_id").size().eq(k).all()
    stats = pd.read_parquet(smoke / "results/reference_stats/toy-qwen2-smoke/toy/stats.parquet")
    assert {"mean_tokens", "accuracy", "k"} <= set(stats.columns)
    ts = pd.read_parquet(smoke / "results/trainset/toy-qwen2-smoke/toy/o1_pruner.parquet")
    assert {"problem_id", "sample_idx", "reward_raw", "advantage", "ref_logp"} <= set(ts.columns)
    assert (ts["ref_logp"] < 0).all()
    main = pd.read_csv(smoke / "results/tables/toy-qwen2-smoke/main_results.csv")
    assert {"model", "method", "dataset", "n_problems", "accuracy", "mean_tokens", "aes"} <= set(main.columns)
    assert set(main["method"]) == {"reference", "marker_ban", "fast_prompt", "o1_pruner", "sft", "dpo"}
    assert (main.loc[main["method"] == "reference", "aes"] == 0).all()
    for fig in [
        "length_distribution",
        "accuracy_vs_tokens",
        "tokens_by_difficulty",
        "inference_cost",
        "length_intervals",
    ]:
        assert (smoke / f"results/figures/toy-qwen2-smoke/{fig}.png").stat().st_size > 1000
        assert (smoke / f"results/figures/toy-qwen2-smoke/{fig}.pdf").read_bytes()[:5] == b"%PDF-"
    assert "booktabs" in (smoke / "results/tables/toy-qwen2-smoke/main_results.tex").read_text()
    # every run also evaluated with n sampled responses per problem, in one generation call per batch
    sampled = pd.read_csv(smoke / "results/tables/toy-qwen2-smoke/sampled_results.csv")
    n = yaml.safe_load((smoke / "config.yaml").read_text())["evaluation"]["sampled"]["samples_per_problem"]["default"]
    assert len(sampled) == len(pd.read_csv(smoke / "results/tables/toy-qwen2-smoke/per_run.csv"))
    assert (sampled["samples_per_problem"] == n).all() and (sampled["n_problems"] == 30).all()
    assert (sampled["accuracy_ci_low"] <= sampled["accuracy"]).all() and (
        sampled["accuracy"] <= sampled["accuracy_ci_high"]
    ).all()
    assert (sampled["pass@2"] >= sampled["pass@1"] - 1e-9).all()
    rows = pd.read_parquet(smoke / "results/eval/toy-qwen2-smoke/toy/reference.sampled.parquet")
    assert len(rows) == 30 * n and rows.groupby("problem_id")["sample_idx"].nunique().eq(n).all()
    profile = pd.read_csv(smoke / "results/tables/toy-qwen2-smoke/reference_profile.csv")
    assert profile["quantity"].str.startswith(f"sampled accuracy (%), avg@{n}").any()
    # thinking and answer tokens apart (the smoke toy has a thinking block), from the token ids
    greedy = pd.read_parquet(smoke / "results/eval/toy-qwen2-smoke/toy/reference.parquet")
    assert (greedy["thinking_tokens"] + greedy["answer_tokens"] == greedy["n_tokens"]).all()
    closed = greedy["thinking_closed"]
    assert closed.any() and greedy.loc[closed, "response"].str.contains("</think>", regex=False).all()
    thinking = pd.read_csv(smoke / "results/tables/toy-qwen2-smoke/thinking_split.csv")
    assert set(thinking["method"]) == set(main["method"])
    # budget forcing: the thinking capped at the budget, the answer after it
    forcing = yaml.safe_load((smoke / "config.yaml").read_text())["evaluation"]["budget_forcing"]
    (budget,) = forcing["budgets"]
    for path in (smoke / "results/eval/toy-qwen2-smoke/toy").glob(f"*.budget{budget}.parquet"):
        rows = pd.read_parquet(path)
        assert len(rows) == 30 and (rows["thinking_tokens"] <= budget).all()
        assert (rows["answer_tokens"] <= forcing["answer_max_tokens"]).all()
        assert (rows["thinking_tokens"] + rows["answer_tokens"] == rows["n_tokens"]).all()
        forced = rows[rows["budget_forced"]]
        assert (forced["thinking_tokens"] == budget).all()
        assert forced["response"].str.contains("</think>" + forcing["answer_cue"], regex=False).all()
    budgets = pd.read_csv(smoke / "results/tables/toy-qwen2-smoke/budget_results.csv")
    assert set(budgets["method"]) == set(main["method"]) and (budgets["budget"] == budget).all()
    assert (smoke / "results/figures/toy-qwen2-smoke/accuracy_vs_budget.png").stat().st_size > 1000
    prov = json.loads((smoke / "results/tables/toy-qwen2-smoke/provenance.json").read_text())
    assert len(prov["config_sha256"]) == 64 and prov["packages"]["transformers"] != "absent"
    # The reference loads through the Auto classes, exactly like a hub model.
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(smoke / "results/models/toy-qwen2-smoke/reference")
    model = AutoModelForCausalLM.from_pretrained(smoke / "results/models/toy-qwen2-smoke/reference")
    assert model.config.model_type == "qwen2" and tok.chat_template


def test_second_run_has_nothing_to_do(smoke):
    assert planned_jobs(snakemake(smoke, "-n")) == {}


def test_evaluation_setting_reruns_only_evaluation_and_report(smoke):
    cfg = yaml.safe_load((smoke / "config.yaml").read_text())
    cfg["evaluation"]["max_new_tokens"] += 8
    changed = smoke / "changed_eval.yaml"
    changed.write_text(yaml.safe_dump(cfg))
    jobs = planned_jobs(snakemake(smoke, "-n", config=changed))
    runs = 1 + len(cfg["evaluation"]["controls"]) + len(cfg["training"]["seeds"]) * len(cfg["training"]["methods"])
    # one evaluation job per run: every test set greedy, sampled and under the thinking budget
    assert jobs == {"evaluate": runs, "report": 1, "all": 1}


def test_a_new_lambda_keeps_the_samples_and_their_reference_logprobs(smoke):
    """The reference log-probs depend on which samples were drawn (reward.seed, m), not on
    lambda: a new lambda recomputes the rewards and retrains, nothing before."""
    cfg = yaml.safe_load((smoke / "config.yaml").read_text())
    cfg["reward"]["lambda"] = 1.0
    changed = smoke / "changed_reward.yaml"
    changed.write_text(yaml.safe_dump(cfg))
    jobs = planned_jobs(snakemake(smoke, "-n", config=changed))
    seeds = len(cfg["training"]["seeds"])
    assert jobs == {
        "rewards": 1,
        "finetune": seeds,
        "evaluate": seeds,
        "report": 1,
        "all": 1,
    }
    # another draw (reward.seed) does need new reference log-probs
    cfg["reward"]["seed"] = 1
    changed.write_text(yaml.safe_dump(cfg))
    jobs = planned_jobs(snakemake(smoke, "-n", config=changed))
    assert jobs["draw"] == 1 and jobs["reference_logprobs"] == 1


def test_an_ablation_lambda_equal_to_the_main_one_trains_once(smoke):
    """ablations.lambdas [main, 0.5]: only the 0.5 variant is new (one seed), and it shares the
    main run's drawn samples and reference log-probs."""
    cfg = yaml.safe_load((smoke / "config.yaml").read_text())
    cfg["ablations"] = {**cfg.get("ablations", {}), "lambdas": [cfg["reward"]["lambda"], 0.5]}
    changed = smoke / "ablation_lambdas.yaml"
    changed.write_text(yaml.safe_dump(cfg))
    result = snakemake(smoke, "-n", config=changed)
    assert planned_jobs(result) == {
        "rewards": 1,
        "finetune": 1,
        "evaluate_ablation": 1,  # greedy and sampled; no thinking budgets for ablation variants
        "report": 1,
        "all": 1,
    }
    assert (
        "o1_pruner_lambda0p5" in result.stdout and f"o1_pruner_lambda{cfg['reward']['lambda']:g}" not in result.stdout
    )


# The data artifacts of a run up to its O1-Pruner training set: what a rerun after a kill must
# reproduce (that fine-tuning and evaluation repeat across runs, the SLURM test shows).
TRAINSET = "results/trainset/toy-qwen2-smoke/toy/o1_pruner.parquet"


def _assert_same_data(a: Path, b: Path):
    for rel in ["results/samples/toy-qwen2-smoke/toy/samples.parquet", TRAINSET]:
        pd.testing.assert_frame_equal(pd.read_parquet(a / rel), pd.read_parquet(b / rel))
    from o1pruner.io import read_parquet_metadata

    meta = read_parquet_metadata(a / "results/samples/toy-qwen2-smoke/toy/samples.parquet")
    assert meta["settings"]["seed"] == yaml.safe_load((a / "config.yaml").read_text())["sampling"]["seed"]


def test_html_report(smoke):
    out = smoke / "results/report.html"
    run = snakemake(smoke, "--report", str(out))
    assert run.returncode == 0, run.stderr[-3000:]
    html = out.read_text(errors="replace")
    # Every table and figure the report rule writes is in the HTML report, with its caption.
    tables = ["main_results", "per_run", "by_level", "flips", "reference_profile", "lambda_ablation"]
    tables += ["difficulty_ablation", "length_intervals", "sampled_results"]
    figures = ["length_distribution", "accuracy_vs_tokens", "tokens_by_difficulty", "inference_cost"]
    figures += ["accuracy_vs_tokens_sampled"]
    for name in tables:
        assert f"{name}.csv" in html, name
    for name in figures:
        assert f"{name}.png" in html, name
    assert "main_results.tex" in html and "Empirical CDF" in html


def test_adding_a_seed_or_removing_a_method_plans_only_those_jobs(smoke):
    cfg = yaml.safe_load((smoke / "config.yaml").read_text())
    methods = cfg["training"]["methods"]
    more = dict(cfg, training=dict(cfg["training"], seeds=cfg["training"]["seeds"] + [7]))
    (smoke / "more_seeds.yaml").write_text(yaml.safe_dump(more))
    jobs = planned_jobs(snakemake(smoke, "-n", config=smoke / "more_seeds.yaml"))
    expected = {"finetune": len(methods), "evaluate": len(methods)}
    assert jobs == {**expected, "report": 1, "all": 1}
    fewer = dict(cfg, training=dict(cfg["training"], methods=[m for m in methods if m != "dpo"]))
    (smoke / "fewer_methods.yaml").write_text(yaml.safe_dump(fewer))
    assert planned_jobs(snakemake(smoke, "-n", config=smoke / "fewer_methods.yaml")) == {"report": 1, "all": 1}


def test_adding_a_method_plans_exactly_its_jobs(smoke, tmp_path):
    """A finished run without DPO (its outputs removed, the report rebuilt without it), then DPO
    added to the config: exactly its training set, one fine-tuning and one evaluation per seed,
    and the report are planned."""
    work = tmp_path / "run"
    shutil.copytree(smoke, work, symlinks=True, ignore=shutil.ignore_patterns("locks"))
    shutil.rmtree(work / "results/checkpoints/toy-qwen2-smoke/dpo")
    (work / "results/trainset/toy-qwen2-smoke/toy/dpo.parquet").unlink()
    for f in (work / "results/eval/toy-qwen2-smoke/toy").glob("dpo-seed*"):
        f.unlink()
    cfg = yaml.safe_load((work / "config.yaml").read_text())
    without = dict(cfg, training=dict(cfg["training"], methods=[m for m in cfg["training"]["methods"] if m != "dpo"]))
    (work / "without_dpo.yaml").write_text(yaml.safe_dump(without))
    assert snakemake(work, "--cores", "2", config=work / "without_dpo.yaml").returncode == 0
    seeds = len(cfg["training"]["seeds"])
    jobs = planned_jobs(snakemake(work, "-n"))
    expected = {
        "baseline_trainset": 1,
        "finetune": seeds,
        "evaluate": seeds,
    }
    assert jobs == {**expected, "report": 1, "all": 1}


REGISTER_AND_RUN = """
import sys
from o1pruner import runs
runs.register(runs.Method("sft_lr2x", "SFT (2x lr)", trainer="sft", data="shortest_correct",
                          training={"learning_rate": float(sys.argv[1])}))
runs.register(runs.Method("kimi_w2", "Kimi (weight 2)", trainer="grpo", data="reference_prompts", objective="kimi",
                          training={"grpo": {"kimi_weight": 2.0}}))
from snakemake.cli import main
sys.exit(main(sys.argv[2:]))
"""


def test_a_method_added_through_the_registry_alone_plans_exactly_its_jobs(smoke):
    """One `runs.register` call (no rule, report or config-check edits) and the method's name in
    training.methods: its training data, a fine-tuning and an evaluation per seed, the report.
    An off-policy method (SFT with another learning rate) and an on-policy one (GRPO with the
    Kimi reward at another weight)."""
    cfg = yaml.safe_load((smoke / "config.yaml").read_text())
    cfg["training"]["methods"] = [*cfg["training"]["methods"], "sft_lr2x", "kimi_w2"]
    cfg["training"]["grpo"] = {"generations": 4}
    changed = smoke / "registered_method.yaml"
    changed.write_text(yaml.safe_dump(cfg))
    lr = 2 * cfg["training"]["learning_rate"]
    cmd = [".venv/bin/python", "-c", REGISTER_AND_RUN, str(lr), *snakemake_cmd(smoke, changed, "-n", "-p")[1:]]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=smoke)
    seeds = 2 * len(cfg["training"]["seeds"])
    expected = {"baseline_trainset": 1, "prompts": 1, "finetune": seeds, "evaluate": seeds}
    assert planned_jobs(result) == {**expected, "report": 1, "all": 1}
    out = result.stdout + result.stderr
    assert "results/trainset/toy-qwen2-smoke/toy/sft_lr2x.parquet" in out
    assert "results/trainset/toy-qwen2-smoke/toy/kimi_w2.parquet" in out
    assert all(f"results/checkpoints/toy-qwen2-smoke/sft_lr2x/seed{s}" in out for s in cfg["training"]["seeds"])
    assert f'\\"learning_rate\\": {lr}' in out or f'"learning_rate": {lr}' in out, out[-2000:]
    assert '"weight": 2.0' in out.replace('\\"', '"'), out[-2000:]
    # without the registration the same config is refused before any job
    plain = subprocess.run(snakemake_cmd(smoke, changed, "-n"), capture_output=True, text=True, timeout=300, cwd=smoke)
    assert plain.returncode != 0 and "'sft_lr2x' is not a registered method" in plain.stdout + plain.stderr


LENGTH_METHODS = ["simpo", "dast", "o1_pruner_online", "kimi", "shorter_better", "length_normalized", "thinkprune"]


def test_every_length_method_trains_and_is_evaluated(smoke, tmp_path):
    """The off-policy (SimPO, DAST) and on-policy (GRPO) methods on the smoke world, from its
    pre-samples: each trains from its own data, is evaluated and reported; GRPO records its
    rollouts; ThinkPrune's rollouts stop at its cap. Rounds: O1-Pruner's second round pre-samples
    from the first round's checkpoint; ThinkPrune's second round trains from its first with a
    smaller cap; a third O1-Pruner round adds exactly its own jobs."""
    work = tmp_path / "run"
    shutil.copytree(smoke, work, symlinks=True, ignore=shutil.ignore_patterns("locks"))
    cfg = without_extra_evaluations(yaml.safe_load((work / "config.yaml").read_text()))
    cfg["training"]["methods"] = ["o1_pruner", *LENGTH_METHODS]
    cfg["training"]["grpo"] = {"generations": 4, "shorter_better_beta": 0.01}
    cfg["rounds"] = {"o1_pruner": {"n": 2, "statistics": "previous"}, "thinkprune": {"hard_cap_tokens": [40, 32]}}
    cfg["evaluation"]["controls"] = []
    (work / "methods.yaml").write_text(yaml.safe_dump(cfg))
    run = snakemake(work, "--cores", "2", config=work / "methods.yaml")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    checkpoints = work / "results/checkpoints/toy-qwen2-smoke"
    round_samples = work / "results/rounds/toy-qwen2-smoke/toy/o1_pruner_r2/seed0/samples.parquet"
    sampled_from = json.loads(pq.read_metadata(round_samples).metadata[b"o1pruner"])["model"]
    assert sampled_from == "results/checkpoints/toy-qwen2-smoke/o1_pruner/seed0"
    second = pd.read_parquet(checkpoints / "thinkprune_r2/seed0/rollouts.parquet")
    assert second["n_tokens"].max() <= 32
    ledger = pd.read_csv(work / "results/tables/toy-qwen2-smoke/compute_ledger.csv").set_index("method")
    assert ledger.loc["o1_pruner_r2", "total_wall_s"] > ledger.loc["o1_pruner", "total_wall_s"]  # round 1 included
    cfg["rounds"]["o1_pruner"]["n"] = 3
    (work / "three.yaml").write_text(yaml.safe_dump(cfg))
    one_more = {"presample_round": 1, "round_stats": 1, "round_draw": 1, "round_logprobs": 1, "round_rewards": 1,
                "finetune": 1, "evaluate": 1, "report": 1, "all": 1}  # fmt: skip
    assert planned_jobs(snakemake(work, "-n", config=work / "three.yaml")) == one_more
    trainsets = work / "results/trainset/toy-qwen2-smoke/toy"
    dast = pd.read_parquet(trainsets / "dast.parquet")
    assert set(dast["kind"]) <= {"dual_correct", "dual_incorrect"} and len(dast)
    assert (dast["chosen_score"] > dast["rejected_score"]).all()
    prompts = pd.read_parquet(trainsets / "kimi.parquet")
    stats = pd.read_parquet(work / "results/reference_stats/toy-qwen2-smoke/toy/stats.parquet")
    assert len(prompts) == len(stats) and {"mean_tokens", "accuracy"} <= set(prompts.columns)
    for method in LENGTH_METHODS:
        ckpt = work / f"results/checkpoints/toy-qwen2-smoke/{method}/seed0"
        info = json.loads((ckpt / "o1pruner_training.json").read_text())
        assert info["weight_update"]["relative_update"] > 0, method
        if info["trainer"] == "grpo":
            rollouts = pd.read_parquet(ckpt / "rollouts.parquet")
            assert len(rollouts) == len(stats) * 4, method
            assert rollouts.groupby(rollouts.index // 4)["problem_id"].nunique().eq(1).all()
    capped = pd.read_parquet(checkpoints / "thinkprune/seed0/rollouts.parquet")
    assert capped["n_tokens"].max() <= 40 and (capped.loc[~capped["finished"], "reward"] == 0).all()
    main = pd.read_csv(work / "results/tables/toy-qwen2-smoke/main_results.csv")
    assert set(main["method"]) == {"reference", "o1_pruner", *LENGTH_METHODS, "o1_pruner_r2", "thinkprune_r2"}


def test_estimate_check_variant_reports_which_wait_is_kept(tmp_path):
    """The thinking-helps toy variant at smoke size: its reference trains with the fast-solving
    instruction, and the report adds the check/restatement and reward-by-style tables."""
    cfg = yaml.safe_load((REPO / "config" / "smoke.yaml").read_text())
    cfg["toy"].update(solution_style="estimate_check", estimate_error=[0.3, 0.5], fast_prompt_fraction=0.1)
    cfg["training"]["methods"] = ["o1_pruner"]
    without_extra_evaluations(cfg)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    run = snakemake(tmp_path, "--cores", "2")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    styles = pd.read_csv(tmp_path / "results/tables/toy-qwen2-smoke/toy_solution_styles.csv")
    assert {"method", "level", "check_kept", "restatements", "accuracy", "mean_tokens"} <= set(styles.columns)
    assert {"reference", "marker_ban", "fast_prompt", "o1_pruner"} <= set(styles["method"])
    # Banning the marker bans the check too.
    assert (styles.loc[styles["method"] == "marker_ban", "check_kept"] == 0).all()
    rewards = pd.read_csv(tmp_path / "results/tables/toy-qwen2-smoke/toy_reward_by_style.csv")
    assert "reward_lambda2" in rewards.columns and set(rewards["level"]) <= {1, 2}
    summary = (tmp_path / "results/tables/toy-qwen2-smoke/summary.md").read_text()
    assert "What the reward asks for" in summary and "check_kept" in summary


def test_hyperparameters_picked_on_validation_and_only_the_pick_evaluated_on_test(smoke, tmp_path):
    """selection: both grid points are trained and evaluated on the validation split (with the
    reference), one rule picks, and the test evaluations of O1-Pruner are those of the pick."""
    work = tmp_path / "run"
    shutil.copytree(smoke, work, symlinks=True, ignore=shutil.ignore_patterns("locks"))
    cfg = yaml.safe_load((work / "config.yaml").read_text())
    cfg["selection"] = {"methods": ["o1_pruner"], "grid": {"learning_rate": [2e-5, 1e-4]}, "validation": {"n": 20}}
    (work / "selection.yaml").write_text(yaml.safe_dump(cfg))
    run = snakemake(work, "--cores", "2", config=work / "selection.yaml")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    model = "toy-qwen2-smoke"
    validation = [json.loads(line) for line in (work / f"results/selection/{model}/validation.jsonl").open()]
    test = [json.loads(line) for line in (work / f"results/data/toy/{model}/test.jsonl").open()]
    assert len(validation) == 20 and not {r["problem"] for r in validation} & {r["problem"] for r in test}
    evaluated = sorted(p.stem for p in (work / f"results/selection/{model}/eval").glob("*.json"))
    assert evaluated == ["o1_pruner_lr0p0001-seed0", "o1_pruner_lr2em05-seed0", "reference"]
    # the learning rate does not change the data: both points train on O1-Pruner's training set
    assert (work / f"results/trainset/{model}/toy/o1_pruner.parquet").exists()
    assert not list((work / f"results/trainset/{model}/toy").glob("o1_pruner_lr*"))
    pick = json.loads((work / f"results/selection/{model}/o1_pruner.json").read_text())
    assert pick["picked_method"] in ("o1_pruner_lr0p0001", "o1_pruner_lr2em05") and pick["reason"]
    # no grid point is evaluated on the test split; the method's test run is the pick's checkpoint
    assert not list((work / f"results/eval/{model}/toy").glob("o1_pruner_lr*"))
    metrics = json.loads((work / f"results/eval/{model}/toy/o1_pruner-seed0.json").read_text())
    assert metrics["model_path"] == f"results/checkpoints/{model}/{pick['picked_method']}/seed0"
    table = pd.read_csv(work / f"results/tables/{model}/hyperparameter_selection.csv")
    assert table["picked"].sum() == 1 and len(table) == 2
    assert pick["reason"] in (work / f"results/tables/{model}/summary.md").read_text()
    assert planned_jobs(snakemake(work, "-n", config=work / "selection.yaml")) == {}
