"""The compute ledger, hand-computed from benchmark files, training sets and a main table."""

import json
import math

import pandas as pd
import pytest

from o1pruner import runs
from o1pruner.config.load import load_config
from o1pruner.ledger_plan import ledger_plan, uses_presamples
from o1pruner.report.ledger import ledger_table

BENCH_HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _bench(path, wall, cpu):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(BENCH_HEADER + f"{wall}\t0:00:00\t1\t1\t1\t1\t0\t0\t100\t{cpu}\n")


def _main(rows):
    """The main table's rows as (method, mean tokens, wall seconds, accuracy) on one test set."""
    keys = ("method", "mean_tokens", "wall_time_s", "accuracy")
    return pd.DataFrame([{"dataset": "toy", "n_problems": 100, **dict(zip(keys, row))} for row in rows])


def _plan(tmp_path, methods, throughput=None):
    return {
        "presample": {
            "samples": str(tmp_path / "samples.parquet"),
            "benchmarks": [str(tmp_path / "b/presample/0-of-1.tsv")],
            "gpus": 0,
        },
        "methods": methods,
        "throughput": throughput or {"generation_tokens_per_s": None, "training_tokens_per_s": None},
    }


def _entry(tmp_path, method, trainer, gpus=0, uses=True):
    return {
        "method": method, "trainer": trainer, "uses_presamples": uses, "epochs": 2, "seeds": [0, 1], "gpus": gpus,
        "trainset": str(tmp_path / f"{method}.parquet"), "data_benchmarks": [],
        "finetune_benchmark": str(tmp_path / f"b/finetune/{method}/seed{{seed}}.tsv"),
        "checkpoint": str(tmp_path / f"ckpt/{method}/seed{{seed}}"),
    }  # fmt: skip


def test_costs_tokens_savings_and_break_even(tmp_path):
    pd.DataFrame({"n_tokens": [100, 300]}).to_parquet(tmp_path / "samples.parquet")  # 400 pre-sampled tokens
    _bench(tmp_path / "b/presample/0-of-1.tsv", 50, 90)
    pd.DataFrame({"n_tokens": [10, 20, 30]}).to_parquet(tmp_path / "sft.parquet")
    _bench(tmp_path / "b/finetune/sft/seed0.tsv", 10, 8)
    _bench(tmp_path / "b/finetune/sft/seed1.tsv", 30, 24)
    for seed, n in ((0, [5, 7]), (1, [9, 11])):
        (tmp_path / f"ckpt/kimi/seed{seed}").mkdir(parents=True)
        pd.DataFrame({"n_tokens": n}).to_parquet(tmp_path / f"ckpt/kimi/seed{seed}/rollouts.parquet")
        _bench(tmp_path / f"b/finetune/kimi/seed{seed}.tsv", 100, 150)
    plan = _plan(tmp_path, [_entry(tmp_path, "sft", "sft"), _entry(tmp_path, "kimi", "grpo", gpus=2, uses=False)])
    # reference: 80 tokens per problem, 100 problems in 40 s = 200 tokens/s
    main = _main([("reference", 80.0, 40.0, 90.0), ("sft", 60.0, 30.0, 85.5), ("kimi", 90.0, 50.0, 91.0)])
    ledger = ledger_table(plan, main).set_index("method")
    sft, kimi = ledger.loc["sft"], ledger.loc["kimi"]
    assert sft["train_wall_s"] == 20 and sft["presample_wall_s"] == 50 and sft["total_wall_s"] == 70
    assert sft["cpu_hours"] == pytest.approx((16 + 90) / 3600) and sft["gpu_hours"] == 0
    assert sft["device_hours"] == pytest.approx(70 / 3600)  # CPU jobs: one device each
    assert sft["trained_tokens"] == 120 and sft["presample_tokens"] == 400 and sft["rollout_tokens"] == 0
    assert sft["tokens_saved_per_problem"] == 20 and sft["seconds_saved_per_problem"] == pytest.approx(0.1)
    assert sft["break_even_problems"] == pytest.approx(700)
    assert kimi["presample_wall_s"] == 0 and kimi["gpu_hours"] == pytest.approx(200 / 3600)
    assert kimi["rollout_tokens"] == kimi["trained_tokens"] == 16  # (12 + 20) / 2 seeds
    assert kimi["tokens_saved_per_problem"] == -10 and math.isinf(kimi["break_even_problems"])
    assert sft["accuracy_change_points"] == pytest.approx(-4.5) and kimi["accuracy_change_points"] == 1.0
    assert (ledger["missing_benchmarks"] == 0).all() and "est_train_hours" not in ledger


def test_estimates_from_stated_throughputs_and_missing_files_are_counted(tmp_path):
    pd.DataFrame({"n_tokens": [1000]}).to_parquet(tmp_path / "samples.parquet")
    pd.DataFrame({"chosen_tokens": [10], "rejected_tokens": [40]}).to_parquet(tmp_path / "dpo.parquet")
    plan = _plan(
        tmp_path, [_entry(tmp_path, "dpo", "dpo")], {"generation_tokens_per_s": 100.0, "training_tokens_per_s": 50.0}
    )
    ledger = ledger_table(plan, _main([("reference", 80.0, 40.0, 90.0), ("dpo", 70.0, 35.0, 90.0)])).iloc[0]
    assert ledger["missing_benchmarks"] == 3  # two seeds' fine-tuning and the pre-sampling
    assert ledger["trained_tokens"] == 100  # a pair's two responses, two epochs
    est_s = 1000 / 100 + 100 / 50
    assert ledger["est_train_hours"] == pytest.approx(est_s / 3600)
    assert ledger["est_break_even_problems"] == pytest.approx(est_s / (10 / 100))


def test_a_picked_method_pays_for_its_grid(tmp_path):
    pd.DataFrame({"n_tokens": [1]}).to_parquet(tmp_path / "samples.parquet")
    entry = _entry(tmp_path, "sft", "sft")
    entry["pick"] = str(tmp_path / "pick.json")
    (tmp_path / "pick.json").write_text(json.dumps({"picked_method": "sft_lr0p001"}))
    entry["grid"] = {
        g: {
            **_entry(tmp_path, g, "sft"),
            "selection_benchmarks": [{"path": str(tmp_path / f"b/finetune/{g}/seed0.tsv"), "gpus": 0}],
        }
        for g in ("sft_lr0p001", "sft_lr0p01")
    }
    pd.DataFrame({"n_tokens": [5]}).to_parquet(tmp_path / "sft_lr0p001.parquet")
    for g, wall in (("sft_lr0p001", 10), ("sft_lr0p01", 30)):
        _bench(tmp_path / f"b/finetune/{g}/seed0.tsv", wall, wall)
    _bench(tmp_path / "b/finetune/sft_lr0p001/seed1.tsv", 20, 20)
    row = ledger_table(_plan(tmp_path, [entry]), _main([("reference", 8.0, 4.0, 90.0), ("sft", 6.0, 3.0, 90.0)])).iloc[
        0
    ]
    assert row["train_wall_s"] == 15 and row["selection_wall_s"] == 40 and row["trained_tokens"] == 10


def test_the_plan_names_every_trained_method_and_its_files():
    config = load_config("config/config.yaml")
    config["training"]["methods"] = ["o1_pruner", "sft", "kimi", "o1_pruner_online"]
    config["selection"]["methods"] = ["o1_pruner"]
    plan = ledger_plan(config, "toy-qwen2")
    by_name = {m["method"]: m for m in plan["methods"]}
    assert list(by_name) == ["o1_pruner", "sft", "kimi", "o1_pruner_online"]  # no ablation variants
    assert by_name["o1_pruner"]["pick"] == "results/selection/toy-qwen2/o1_pruner.json"
    assert set(by_name["o1_pruner"]["grid"]) == {g.name for g in runs.grid_methods(config, "o1_pruner")}
    reference_logprobs = by_name["o1_pruner"]["data_benchmarks"][0]
    assert reference_logprobs["path"].startswith("results/benchmarks/reference_logprobs/toy-qwen2/")
    assert reference_logprobs["gpus"] == 1 and plan["evaluation_gpus"] == 1
    assert not by_name["kimi"]["uses_presamples"] and by_name["o1_pruner_online"]["uses_presamples"]
    assert uses_presamples(runs.METHODS["dast"])


def test_break_even_counts_device_seconds_of_jobs_on_different_device_counts(tmp_path):
    """Fine-tuning 100 s on 8 GPUs, its log-probs 20 s on one, the shared pre-sampling 50 s on 2
    GPUs: 800 + 20 + 100 = 920 device-seconds. Greedy evaluation on 2 GPUs (tensor parallel)
    saves 0.1 s per problem, 0.2 device-seconds: break-even after 4,600 problems (wall time
    alone would say 170 / 0.1 = 1,700)."""
    pd.DataFrame({"n_tokens": [1]}).to_parquet(tmp_path / "samples.parquet")
    _bench(tmp_path / "b/presample/0-of-1.tsv", 50, 50)
    entry = _entry(tmp_path, "o1_pruner", "o1_pruner", gpus=8)
    entry["seeds"] = [0]
    entry["data_benchmarks"] = [{"path": str(tmp_path / "b/logprobs.tsv"), "gpus": 1}]
    _bench(tmp_path / "b/finetune/o1_pruner/seed0.tsv", 100, 100)
    _bench(tmp_path / "b/logprobs.tsv", 20, 20)
    plan = {**_plan(tmp_path, [entry]), "evaluation_gpus": 2}
    plan["presample"]["gpus"] = 2
    # reference: 80 tokens per problem, 100 problems in 40 s = 200 tokens/s; 20 saved = 0.1 s
    row = ledger_table(plan, _main([("reference", 80.0, 40.0, 90.0), ("o1_pruner", 60.0, 30.0, 90.0)])).iloc[0]
    assert row["total_wall_s"] == 170
    assert row["device_hours"] == pytest.approx(920 / 3600) and row["gpu_hours"] == pytest.approx(920 / 3600)
    assert row["seconds_saved_per_problem"] == pytest.approx(0.1)
    assert row["device_seconds_saved_per_problem"] == pytest.approx(0.2)
    assert row["break_even_problems"] == pytest.approx(4600)
