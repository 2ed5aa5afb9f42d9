"""The on-policy methods' reward function: whole groups even when TRL splits them over processes
(huggingface/trl#3896), run for real with two CPU processes through the workflow's launcher."""

import json
import os
import shlex
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import REPO, grpo_prompts, training_settings

from o1pruner.io import InputError
from o1pruner.launch import job_environment, train_launcher_command
from o1pruner.length_rewards import group_rewards
from o1pruner.train.grpo import GroupRewards

SETTINGS = {"alpha": 2.0, "beta": 0.1}


def _call(reward, ids, pids):
    n = len(ids)
    return reward(
        prompts=[""] * n, completions=["\\boxed{3}" if i % 2 else "no" for i in range(n)], completion_ids=ids,
        problem_id=pids, answer=["3"] * n, ref_mean_tokens=[5.0] * n, ref_accuracy=[0.5] * n,
    )  # fmt: skip


def test_each_rank_gets_its_slice_of_the_whole_groups_rewards():
    """Two ranks holding halves of one group of 4: with the gathered rows each returns its own
    slice of the rewards computed over the whole group; scored alone (TRL's default), a half
    gets other rewards (the negative case)."""
    ids = [[1] * 3, [1] * 5, [1] * 9, [1, 2]]
    pids = ["p"] * 4
    whole = GroupRewards("shorter_better", SETTINGS, 4, [2], "last")
    expected = _call(whole, ids, pids)

    halves = [(ids[:2], pids[:2]), (ids[2:], pids[2:])]

    def gather_for(rank):
        def gather(rows):
            if "returned_reward" in rows[0]:  # the record of what each rank returned: the whole group's
                return [{"returned_reward": x} for x in expected], 2 * rank
            return [{**r, "rank": k} for k, (i, p) in enumerate(halves) for r in _rows(i, p)], 2 * rank

        return gather

    def _rows(i, p):
        return [{"problem_id": q, "n_tokens": len(x), "correct": j % 2 == 1, "finished": x[-1] == 2,
                 "ref_mean_tokens": 5.0, "ref_accuracy": 0.5} for j, (x, q) in enumerate(zip(i, p))]  # fmt: skip

    got = []
    for rank, (i, p) in enumerate(halves):
        got += _call(GroupRewards("shorter_better", SETTINGS, 4, [2], "last", gather=gather_for(rank)), i, p)
    assert got == pytest.approx(expected)
    alone = [r for i, p in halves for r in _call(GroupRewards("shorter_better", SETTINGS, 2, [2], "last"), i, p)]
    assert not np.allclose(alone, expected)


def test_a_group_aware_reward_refuses_groups_of_one():
    with pytest.raises(InputError, match="compares the responses to one prompt"):
        GroupRewards("kimi", {"weight": 1.0}, 1, [2], "last")


def test_rows_out_of_group_order_are_refused():
    with pytest.raises(RuntimeError, match="not one prompt's group"):
        _call(GroupRewards("kimi", {"weight": 1.0}, 2, [2], "last"), [[1], [1, 2]], ["a", "b"])


def _model_that_stops_at_random(src: Path, dst: Path) -> Path:
    """The tiny random model with its end-of-turn row pointed along its hidden states, so that
    sampled responses end after anything from 1 to the cap of 16 tokens: lengths differ within
    a group, so the group-aware reward differs with and without the rest of the group."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok, model = AutoTokenizer.from_pretrained(src), AutoModelForCausalLM.from_pretrained(src)
    ids = tok("system\nAnswer\nuser\n3+4\nassistant\n", return_tensors="pt").input_ids
    with torch.no_grad():
        h = model.model(ids).last_hidden_state[0]
    direction = torch.nn.functional.normalize(h, dim=-1).mean(0)
    model.lm_head.weight.data[tok.eos_token_id] = 0.6 * direction / direction.norm()
    model.save_pretrained(dst)
    tok.save_pretrained(dst)
    return dst


# The launcher line runs as the workflow's finetune job runs it: in the job environment the
# workflow gives its jobs (the interpreter's folder first on PATH: torchrun, accelerate, ninja).
ENV = job_environment(dict(os.environ))


@pytest.mark.distributed
@pytest.mark.slow
def test_two_processes_score_whole_groups(training_data, tmp_path):
    """GRPO through `o1pruner train` under the workflow's two-process launcher (torchrun, gloo):
    2 rollouts per process per step and groups of 4, so every group is split over the two
    processes. Every recorded reward must equal the group's reward computed over all 4."""
    data = training_data(8)
    trainset = tmp_path / "prompts.parquet"
    grpo_prompts(data / "problems.jsonl", trainset, mean_tokens=12.0)
    settings = training_settings(
        "grpo", learning_rate=1e-4, per_device_batch_size=2, global_batch_size=4, warmup_ratio=0.0,
        cutoff_len=256, bf16=False, epochs=1,
    )  # fmt: skip
    out = tmp_path / "ckpt"
    launcher = train_launcher_command(
        {**settings, "cpu_processes": 2, "distributed": "ddp"}, 0, REPO / "config" / "accelerate"
    )
    command = [*shlex.split(launcher), "--log-file", str(tmp_path / "train.log"), "train", "--trainer", "grpo"]
    model = _model_that_stops_at_random(data / "model", tmp_path / "model")
    command += ["--model", str(model), "--trainset", str(trainset), "--problems", str(data / "problems.jsonl")]
    command += ["--settings", json.dumps(settings), "--seed", "0", "--out", str(out), "--threads", "1"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, env=ENV)
    assert run.returncode == 0, (tmp_path / "train.log").read_text()[-3000:]
    info = json.loads((out / "o1pruner_training.json").read_text())
    assert info["processes"] == 2

    rollouts = pd.read_parquet(out / "rollouts.parquet")
    assert len(rollouts) == 8 * 4  # every prompt once, G = 4, both processes' rollouts recorded
    split = 0
    for _, group in rollouts.groupby(rollouts.index // 4):
        assert group["problem_id"].nunique() == 1
        split += group["rank"].nunique() == 2
        arrays = {
            k: group[k].to_numpy() for k in ("n_tokens", "correct", "finished", "ref_mean_tokens", "ref_accuracy")
        }
        whole = group_rewards("shorter_better", [arrays], settings["grpo"]["objective_settings"])[0]
        assert group["reward"].to_numpy() == pytest.approx(whole)
        # ... and each process handed TRL its own rows' rewards (the offset into the gathered rows)
        assert group["returned_reward"].to_numpy() == pytest.approx(whole)
    assert split == 8  # TRL put each group on both processes: what the gathering is for
    assert rollouts["n_tokens"].nunique() > 2 and rollouts["reward"].std() > 0
    # Negative case: what each process would have scored from its own half of the group.
    objective = settings["grpo"]["objective_settings"]
    halves = [part for _, group in rollouts.groupby(rollouts.index // 4) for _, part in group.groupby("rank")]
    naive = np.concatenate(
        [group_rewards("shorter_better", [{k: h[k].to_numpy() for k in arrays}], objective)[0] for h in halves]
    )
    assert not np.allclose(
        naive, rollouts.sort_values(["generation_batch", "rank"], kind="stable")["reward"].to_numpy()
    )


def _trl_group_advantages(rewards: np.ndarray, scale_rewards: str) -> np.ndarray:
    """TRL 1.16's advantage of one group (grpo_trainer.py, `sum_then_normalize`): r - mean(r),
    divided by (std(r) + 1e-4) when scale_rewards is "group"."""
    centred = rewards - rewards.mean()
    return centred / (rewards.std(ddof=1) + 1e-4) if scale_rewards == "group" else centred


def test_each_on_policy_method_states_its_optimiser_and_the_penalty_weight_moves_its_advantages():
    """GRPOConfig gets scale_rewards and loss_type from the method (no TRL default). With the
    group's standard deviation divided out, an all-correct group's advantages do not depend on
    Arora & Zanette's alpha (0.05 and 0.4 give the same within 0.02); with their optimiser's
    baseline alone (scale_rewards none) the advantages scale with alpha."""
    from o1pruner import job_settings
    from o1pruner.config.load import load_config
    from o1pruner.settings import TrainingSettings
    from o1pruner.train.arguments import method_arguments

    config = load_config(REPO / "config" / "config.yaml")
    config["training"]["methods"] = ["kimi", "length_normalized"]
    built = {}
    for name in ("kimi", "length_normalized"):
        settings = TrainingSettings.from_json(job_settings.training_settings(config, name))
        built[name] = method_arguments("grpo", settings, 0, "/tmp/unused")
    assert (built["kimi"].scale_rewards, built["kimi"].loss_type) == ("group", "dapo")
    assert (built["length_normalized"].scale_rewards, built["length_normalized"].loss_type) == ("none", "dapo")

    lengths, correct, finished = [10, 12, 15, 30], [True] * 4, [True] * 4
    ref = dict(ref_mean_tokens=[20.0] * 4, ref_accuracy=[1.0] * 4)
    by_alpha = {a: group_rewards("length_normalized", [dict(n_tokens=np.array(lengths), correct=np.array(correct),
                                 finished=np.array(finished), ref_mean_tokens=np.array(ref["ref_mean_tokens"]),
                                 ref_accuracy=np.array(ref["ref_accuracy"]))], {"alpha": a})[0]
                for a in (0.05, 0.4)}  # fmt: skip
    scaled = {a: _trl_group_advantages(r, "group") for a, r in by_alpha.items()}
    plain = {a: _trl_group_advantages(r, "none") for a, r in by_alpha.items()}
    assert np.abs(scaled[0.05] - scaled[0.4]).max() <= 0.02  # the weight cancels
    assert plain[0.4] == pytest.approx(8 * plain[0.05])  # the weight is the step size
