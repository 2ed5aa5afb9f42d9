"""The settings each job gets, from the validated config (schema defaults filled in).

A rule passes them as its `--settings` JSON param, so a job reruns exactly when something it
computes from changes: keys that only choose *which* jobs exist (methods, seeds, controls,
shards, GPUs) stay out. `o1pruner.settings` types each of them at the command line.

Standard library only: the rules import this module while Snakemake plans the run.
"""

from __future__ import annotations

import json

from . import runs


def model_settings(config: dict) -> dict:
    m, p = config["model"], config["prompt"]
    return {
        "dtype": m["dtype"],
        "trust_remote_code": m["trust_remote_code"],
        "system_prompt": p["system"],
        "answer_box": p["answer_box"],
    }


def _vllm(config: dict, section: str) -> dict | None:
    """The engine settings; they only matter, and only rerun jobs, with the vllm backend.
    Where the engine runs (`venv`) is not what it computes."""
    if config[section]["backend"] != "vllm":
        return None
    return {k: v for k, v in config["vllm"].items() if k != "venv"}


def validation_settings(config: dict) -> dict:
    """The toy validation split: drawn apart from the train and test problems."""
    return {**toy_data_settings(config), "n_validation": config["selection"]["validation"]["n"]}


def toy_data_settings(config: dict) -> dict:
    """What the toy problems depend on (not how the reference solves them)."""
    toy = config["toy"]
    return {k: toy[k] for k in ("seed", "n_train", "n_test", "levels")}


def toy_reference_settings(config: dict) -> dict:
    """What the toy reference is trained from: the config's `toy` section and its prompt. Keys
    that leave the reference as it was (a toy without a thinking block; how its responses are
    graded and counted) stay out, so references trained before they existed stay valid."""
    toy = {k: v for k, v in config["toy"].items() if not (k == "thinking" and not v)}
    prompt = {k: config["prompt"][k] for k in ("system", "answer_box")}
    return {"toy": toy, "prompt": prompt}


def presample_settings(config: dict) -> dict:
    s = config["sampling"]
    keys = ("backend", "k", "temperature", "top_p", "max_new_tokens", "batch_size", "seed")
    return {**model_settings(config), **{k: s[k] for k in keys}, "vllm": _vllm(config, "sampling"), **_thinking(config)}


def _thinking(config: dict) -> dict:
    """The thinking marker where the model has one; absent otherwise, so that a config without
    one gives the settings it gave before the key existed (no job reruns for nothing)."""
    marker = config["prompt"]["thinking_end"]
    return {} if marker is None else {"thinking_end": marker}


def token_cap(config: dict, dataset: str) -> int:
    """evaluation.max_new_tokens of one test set (a number, or per set with a `default`)."""
    cap = config["evaluation"]["max_new_tokens"]
    return cap.get(dataset, cap["default"]) if isinstance(cap, dict) else cap


def evaluation_settings(
    config: dict, run: str, dataset: str, samples_per_problem: int | None = None, budgets: list[int] | None = None
) -> dict:
    """Greedy, with `samples_per_problem` sampled responses (`evaluation.sampled`), or greedy with
    the thinking capped at each of `budgets` tokens (`evaluation.budget_forcing`)."""
    e = config["evaluation"]
    decoding = (
        runs.sampled_decoding(run, config, samples_per_problem)
        if samples_per_problem
        else runs.run_decoding(run, config)
    )
    forcing_settings = {k: e["budget_forcing"][k] for k in ("answer_cue", "answer_max_tokens")}
    return {
        **model_settings(config),
        "backend": e["backend"],
        "batch_size": e["batch_size"],
        "max_new_tokens": token_cap(config, dataset),
        "vllm": _vllm(config, "evaluation"),
        **decoding,
        **_thinking(config),
        **({} if budgets is None else {"budget_forcing": {"budgets": list(budgets), **forcing_settings}}),
    }


def evaluation_plan(
    config: dict, run: str, decodings: list[tuple[str, str, str]], sampled: dict[str, int], budgets: list[int]
) -> dict:
    """`o1pruner evaluate --plan` of a run's job: `decodings` lists (test set, problems file, mode),
    mode "greedy", "sampled" (`sampled[test set]` responses per problem) or "budgets"; the
    settings all decodings share are sent once, as `common`."""
    each = [
        (
            problems,
            evaluation_settings(
                config,
                run,
                dataset,
                samples_per_problem=sampled[dataset] if mode == "sampled" else None,
                budgets=budgets if mode == "budgets" else None,
            ),
        )
        for dataset, problems, mode in decodings
    ]
    # Shared means the same JSON: 1 and 1.0 are equal in Python but are not the same setting.
    common = {k: v for k, v in each[0][1].items() if all(k in s and _same(s[k], v) for _, s in each)}
    return {
        "common": common,
        "decodings": [{"problems": p, "settings": {k: v for k, v in s.items() if k not in common}} for p, s in each],
    }


def _same(a, b) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def imported_evaluation_settings(config: dict, dataset: str) -> dict:
    """A run evaluated elsewhere (`evaluation.import`): graded and counted as the reference's
    greedy evaluation is; with several responses per problem, pass@k for the sampled tables' ks."""
    return {
        **evaluation_settings(config, runs.REFERENCE, dataset),
        "pass_k": list(config["evaluation"]["sampled"]["pass_k"]),
    }


def draw_settings(config: dict, method_name: str) -> dict:
    reward = runs.method_reward(runs.method(method_name), config)
    return {
        "samples_per_problem": reward["samples_per_problem"],
        "seed": reward["seed"],
        "difficulty_band": reward.get("difficulty_band"),
    }


def reward_settings(config: dict, method_name: str) -> dict:
    reward = runs.method_reward(runs.method(method_name), config)
    gated = {"length_term": reward["length_term"]} if reward.get("length_term", "ratio") != "ratio" else {}
    return {**{k: reward[k] for k in ("lambda", "reward_clip", "normalize")}, **gated}


def baseline_trainset_settings(config: dict, method_name: str) -> dict:
    data = runs.method(method_name).data
    t = method_training(config, method_name)
    margin = {"score_margin": t["dast_score_margin"]} if data == "budget_pairs" else {}
    return {"data": data, "samples_per_problem": t["shortest_correct_per_problem"], **margin}


def logprob_settings(config: dict) -> dict:
    t = config["training"]
    return {**model_settings(config), "cutoff_len": t["cutoff_len"], "logprob_batch_size": t["logprob_batch_size"]}


# Training keys that choose which jobs exist or how they are launched, not what a job computes.
NOT_TRAINING_SETTINGS = {
    "methods",
    "seeds",
    "method_overrides",
    "gpus",
    "cpu_processes",
    "distributed",
    "shortest_correct_per_problem",
    "dast_score_margin",
    "dpo_beta",
    "simpo_beta",
    "simpo_gamma",
    "grpo",
    "o1_pruner_ratio",
}

# Each on-policy objective's keyword settings (length_rewards) -> where they live in the config:
# ("reward", key) in the method's reward section, else the key of `training.grpo`.
OBJECTIVE_SETTINGS = {
    "o1_pruner": {"lam": ("reward", "lambda"), "clip": ("reward", "reward_clip")},
    "kimi": {"weight": "kimi_weight"},
    "shorter_better": {"alpha": "shorter_better_alpha", "beta": "shorter_better_beta"},
    "length_normalized": {"alpha": "length_normalized_alpha"},
    "hard_cap": {"cap_tokens": "hard_cap_tokens"},
    "accuracy": {},
}


def method_training(config: dict, method_name: str) -> dict:
    """The training section as this method trains: the method's registry entry, then
    `training.method_overrides` of the method it varies, then its own, then a grid point's values."""
    m = runs.method(method_name)
    overrides = config["training"]["method_overrides"]
    grid = {k: v for k, v in m.grid.items() if runs.GRID_KEYS[k][0] == "training"}
    layers = [config["training"], m.training, overrides.get(m.variant_of, {}), overrides.get(m.name, {}), grid]
    out = {}
    for layer in layers:  # a selection grid point's own values win over the method's overrides
        out.update(layer)
    # `grpo` overrides merge key by key: {thinkprune: {grpo: {hard_cap_tokens: 48}}} keeps the rest.
    out["grpo"] = {k: v for layer in layers for k, v in (layer.get("grpo") or {}).items()}
    caps = config["rounds"].get(m.variant_of if m.round else m.name, {}).get("hard_cap_tokens")
    if caps:  # ThinkPrune's rounds: round N (round 1: the method itself) generates up to the N-th cap
        out["grpo"]["hard_cap_tokens"] = caps[(m.round or 1) - 1]
    return out


def grpo_settings(config: dict, method_name: str, t: dict) -> dict:
    """The rollouts and the objective of an on-policy method (`t`: its training section)."""
    m = runs.method(method_name)
    g = t["grpo"]
    reward = runs.method_reward(m, config)
    objective = {
        name: reward[where[1]] if isinstance(where, tuple) else g[where]
        for name, where in OBJECTIVE_SETTINGS[m.objective].items()
    }
    length = g["max_completion_length"] or config["sampling"]["max_new_tokens"]
    if m.objective == "hard_cap":  # ThinkPrune generates up to the cap itself
        length = objective["cap_tokens"]
    out = {
        "objective": m.objective,
        "objective_settings": objective,
        "generations": g["generations"],
        "max_completion_length": length,
        "temperature": g["temperature"],
        "kl_beta": g["kl_beta"],
        "scale_rewards": g["scale_rewards"],
        "loss_type": g["loss_type"],
    }
    if g["rollouts"] == "vllm":
        out["vllm_rollouts"] = {
            "gpu_memory_utilization": g["vllm_gpu_memory_utilization"],
            "cpu_kv_cache_gib": config["vllm"]["cpu_kv_cache_gib"],
            "max_model_len": config["vllm"]["max_model_len"],
        }
    return out


def training_settings(config: dict, method_name: str) -> dict:
    t = method_training(config, method_name)
    out = {**model_settings(config), **{k: v for k, v in t.items() if k not in NOT_TRAINING_SETTINGS}}
    trainer = runs.method(method_name).trainer
    if trainer == "dpo":
        out["dpo_beta"] = t["dpo_beta"]
    if trainer == "simpo":
        out.update(simpo_beta=t["simpo_beta"], simpo_gamma=t["simpo_gamma"])
    if trainer == "grpo":
        out["grpo"] = grpo_settings(config, method_name, t)
    if trainer == "o1_pruner" and t["o1_pruner_ratio"] != "token_mean":
        out["o1_pruner_ratio"] = t["o1_pruner_ratio"]
    return out
