"""Which runs a config plans and how each is decoded and named: the trained methods (with their
grid points and rounds), run names (`<method>-seed<N>`), greedy and sampled decoding per run,
display labels, and a method's reward settings and drawn samples. Standard library only."""

from __future__ import annotations

import re

from .registry import CONTROLS, DATA_RULES, DIFFICULTY_BANDS, METHODS, REFERENCE, SELECTION, Method, UnknownName
from .variants import GRID_KEYS, band_variant, grid_variant, lambda_tag, lambda_variant, method, round_methods


def trained_methods(config: dict) -> list[Method]:
    """The methods a config trains: `training.methods`, then the ablation variants (first seed
    only). A lambda variant at the main lambda is the main run itself, so it is not trained twice."""
    chosen = [method(name) for name in config["training"]["methods"]] + round_methods(config)
    ablations = config["ablations"]
    main_lambda = float(config["reward"]["lambda"])
    for value in ablations["lambdas"]:
        if float(value) != main_lambda:
            chosen.append(lambda_variant(value))
    if ablations["difficulty"]:
        chosen += [band_variant(band) for band in DIFFICULTY_BANDS]
    return chosen


def grid_points(config: dict) -> list[dict]:
    """Every combination of the values in `selection.grid` (in GRID_KEYS order)."""
    grid = config["selection"]["grid"]
    keys = [k for k in GRID_KEYS if grid.get(k)]
    points = [{}]
    for key in keys:
        points = [{**p, key: v} for p in points for v in grid[key]]
    return points if keys else []


def selected_methods(config: dict) -> list[str]:
    """The methods whose hyperparameters are picked on the validation split."""
    return list(config["selection"]["methods"])


def grid_methods(config: dict, method_name: str | None = None) -> list[Method]:
    """The grid points of the selected methods (or of one), each a method trained with the first
    seed and evaluated on the validation split only. Reward keys apply to O1-Pruner-like methods."""
    out = []
    for name in [method_name] if method_name else selected_methods(config):
        harmonized = METHODS[name].data == "length_harmonizing"
        for point in grid_points(config):
            kept = {k: v for k, v in point.items() if harmonized or GRID_KEYS[k][0] != "reward"}
            variant = grid_variant(name, kept)
            if variant.name not in [m.name for m in out]:
                out.append(variant)
    return out


def trainset_method(m: Method) -> Method:
    """The method whose training set m trains on. A grid point's training keys (learning rate,
    epochs) do not change the data, so points that differ only in them share one training set:
    their method's own, or that of the point with the same reward keys."""
    if m.ablation != SELECTION:
        return m
    data_point = {k: v for k, v in m.grid.items() if GRID_KEYS[k][0] != "training"}
    return grid_variant(m.variant_of, data_point) if data_point else METHODS[m.variant_of]


def planned_methods(config: dict) -> list[Method]:
    """Every method a config trains or builds a training set for: `trained_methods`, the grid
    points, and the methods whose training sets the grid points share (`trainset_method`)."""
    out = {m.name: m for m in trained_methods(config) + grid_methods(config)}
    for shared in [trainset_method(m) for m in out.values()]:
        out.setdefault(shared.name, shared)
    return list(out.values())


def grid_runs(config: dict, method_name: str | None = None) -> list[str]:
    """The grid points' runs (first seed) of the selected methods, or of one."""
    seed = config["training"]["seeds"][0]
    return [run_name(m.name, seed) for m in grid_methods(config, method_name)]


def validation_runs(config: dict) -> list[str]:
    """The runs evaluated on the validation split: the reference and every grid point."""
    return [REFERENCE, *grid_runs(config)] if selected_methods(config) else []


def seeds_of(m: Method, config: dict) -> list[int]:
    seeds = config["training"]["seeds"]
    return [seeds[0]] if m.ablation else list(seeds)


def run_name(method_name: str, seed: int) -> str:
    return f"{method_name}-seed{seed}"


def split_run(run: str) -> tuple[str, int | None]:
    """`o1_pruner-seed0` -> ("o1_pruner", 0); `reference` -> ("reference", None)."""
    if "-seed" in run:
        name, seed = run.rsplit("-seed", 1)
        return name, int(seed)
    return run, None


def run_method(run: str) -> str:
    return split_run(run)[0]


def reference_runs(config: dict) -> list[str]:
    """The runs that evaluate the unchanged reference model."""
    for name in config["evaluation"]["controls"]:
        if name not in CONTROLS:
            raise UnknownName(f"{name!r} is not a registered control (registered: {', '.join(CONTROLS)})")
    return [REFERENCE, *config["evaluation"]["controls"]]


def trained_runs(config: dict) -> list[str]:
    return [run_name(m.name, seed) for m in trained_methods(config) for seed in seeds_of(m, config)]


def all_runs(config: dict) -> list[str]:
    return reference_runs(config) + trained_runs(config)


def run_decoding(run: str, config: dict) -> dict:
    """How a run is decoded greedily: the plain prompt, or what its control changes. Every key
    is always present, so the settings of a run say all of how it was decoded."""
    decoding = {
        "do_sample": False,
        "num_samples": 1,
        "temperature": 1.0,
        "top_p": 1.0,
        "seed": 0,
        "pass_k": [1],
        "fast_prompt": False,
        "banned_phrases": [],
    }
    if run in CONTROLS:
        decoding.update(CONTROLS[run].decoding(config))
    return decoding


def sampled_decoding(run: str, config: dict, samples_per_problem: int) -> dict:
    """The run's decoding with n sampled responses per problem (`evaluation.sampled`)."""
    sampled = config["evaluation"]["sampled"]
    return {
        **run_decoding(run, config),
        "do_sample": True,
        "num_samples": samples_per_problem,
        "temperature": sampled["temperature"],
        "top_p": sampled["top_p"],
        "seed": sampled["seed"],
        "pass_k": list(sampled["pass_k"]),
    }


def label(name: str) -> str:
    """Display name of a method, control or reference run."""
    if name == REFERENCE:
        return "Reference"
    if name in CONTROLS:
        return CONTROLS[name].label
    try:
        return method(name).label
    except UnknownName:
        return name


# A method's `reward` value of samples_per_problem that means every pre-sample (K).
ALL_SAMPLES = "all"


def method_reward(m: Method, config: dict) -> dict:
    """The `reward` section as the method computes it: the config's, then the method's own values
    (`samples_per_problem: all` = the K pre-samples, `sampling.k`)."""
    reward = {**config["reward"], **m.reward}
    if reward["samples_per_problem"] == ALL_SAMPLES:
        reward["samples_per_problem"] = config["sampling"]["k"]
    return reward


def draw_name(m: Method, config: dict) -> str:
    """Which drawn samples a length-harmonizing method trains on: they depend on m, the draw's
    seed and the difficulty band only, so variants that differ in lambda share one draw (and its
    reference log-probs)."""
    reward = method_reward(m, config)
    name = f"m{reward['samples_per_problem']}-seed{reward['seed']}"
    band = reward.get("difficulty_band")
    if band:
        name += "-band" + "-".join(lambda_tag(v) for v in band)
    return name


def resampled(m: Method) -> bool:
    """A round that pre-samples again from the previous round's checkpoint (rules/rounds.smk)."""
    return m.round is not None and m.data == "length_harmonizing"


def wildcard_pattern(names) -> str:
    """A wildcard constraint that matches exactly these names."""
    names = sorted(set(names))
    return "|".join(re.escape(n) for n in names) if names else "(?!)"


def method_wildcards(config: dict) -> dict[str, str]:
    """Wildcard constraints of the training rules: the methods whose training set each rule makes."""
    methods = planned_methods(config)
    trainsets = {t.name: t for t in map(trainset_method, methods)}

    def made_by(rule: str) -> str:
        # a round of a pre-sampling method has its own data, per seed (rules/rounds.smk)
        return wildcard_pattern(
            name for name, m in trainsets.items() if DATA_RULES[m.data] == rule and not resampled(m)
        )

    return {
        "method": wildcard_pattern(m.name for m in methods),
        "resampled": wildcard_pattern(m.name for m in methods if resampled(m)),
        "harmonized": made_by("rewards"),
        "baseline_trainset": made_by("baseline_trainset"),
        "prompted": made_by("prompts"),
        "run": wildcard_pattern(all_runs(config) + validation_runs(config)),
        "picked": wildcard_pattern(selected_methods(config)),
    }
