"""The registry of methods and runs: every name the rules, the report and the tests use.

A *method* fine-tunes the reference model: one `Method` entry says where its training data
comes from (`data`), which trainer runs (`trainer`) and what it sets differently from the
config (`reward`, `training`). A *run* is something evaluated on the test sets:

- `reference`: the unchanged reference model (the row every AES is measured against);
- a *control*: the reference decoded differently, without training (`marker_ban`, `fast_prompt`);
- `<method>-seed<N>`: a fine-tuned model.

Every run is evaluated greedily (the paper's protocol) and, where `evaluation.sampled` asks for
it, with n sampled responses per problem (`sampled_decoding`).

"Baseline" means only the paper's comparison methods (SFT, DPO, the fast-solving prompt).
Ablations are generated variants of O1-Pruner: `o1_pruner_lambda<L>` (another lambda, `p` for
the decimal point) and `o1_pruner_<band>` (trained on a difficulty band of the problems).

Standard library only: the rules import this module while Snakemake plans the run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

REFERENCE = "reference"
SELECTION = "selection"  # the `ablation` kind of a selection grid point

# How a method's training data is made from the pre-samples (the `data` of a Method), and the
# rule that makes it: length_harmonizing (`rewards`): m drawn samples per problem with the
# O1-Pruner reward and reference log-probs; shortest_correct (`baseline_trainset`): the m
# shortest correct samples (SFT); shortest_vs_longest (`baseline_trainset`): those against the
# problem's longest sample (DPO, SimPO pairs); budget_pairs (`baseline_trainset`): DAST's pairs
# ranked against a per-problem token budget; reference_prompts (`prompts`): the training
# problems with their reference length and accuracy, for the on-policy methods that sample
# their own responses.
DATA_RULES = {
    "length_harmonizing": "rewards",
    "shortest_correct": "baseline_trainset",
    "shortest_vs_longest": "baseline_trainset",
    "budget_pairs": "baseline_trainset",
    "reference_prompts": "prompts",
}
# o1_pruner: the paper's PPO-style offline loss; sft, dpo: TRL's; simpo: TRL's CPOTrainer with
# the SimPO loss; grpo: TRL's GRPOTrainer with one of OBJECTIVES as its reward.
# The on-policy rewards (src/o1pruner/length_rewards.py); the group-aware ones need every
# response to the same prompt at once.
OBJECTIVES = ("o1_pruner", "kimi", "shorter_better", "length_normalized", "hard_cap", "accuracy")
GROUP_OBJECTIVES = ("kimi", "shorter_better", "length_normalized")
# The trainers a method may name, and which training data each takes: pairs, single responses,
# or prompts only. train/registry.py holds each one's code and adds a trainer registered there;
# the names live here so that this module stays importable while Snakemake plans.
TRAINER_DATA = {
    "o1_pruner": ("length_harmonizing",),
    "sft": ("shortest_correct",),
    "dpo": ("shortest_vs_longest", "budget_pairs"),
    "simpo": ("shortest_vs_longest", "budget_pairs"),
    "grpo": ("reference_prompts",),
}
TRAINERS = TRAINER_DATA  # its keys: `name in TRAINERS`, `list(TRAINERS)`

# Figure 4 of the paper: the hardest 0-40%, middle 30-70% and easiest 60-100% of the training
# problems by pre-sampled accuracy.
DIFFICULTY_BANDS = {"hard": (0.0, 0.4), "mid": (0.3, 0.7), "easy": (0.6, 1.0)}
BAND_LABELS = {"hard": "hardest 40%", "mid": "middle 40%", "easy": "easiest 40%"}


class UnknownName(ValueError):
    """A method, control or run name that is not registered."""


@dataclass(frozen=True)
class Method:
    name: str
    label: str  # display name in figures and the LaTeX table
    trainer: str  # one of TRAINERS
    data: str  # one of DATA_RULES
    reward: dict = field(default_factory=dict)  # overrides of the config's `reward` section
    training: dict = field(default_factory=dict)  # overrides of the config's `training` section
    variant_of: str | None = None  # the registered method an ablation varies
    ablation: str | None = None  # "lambda", "difficulty" (ablation tables) or "selection" (a grid point)
    grid: dict = field(default_factory=dict)  # a selection grid point's values (GRID_KEYS), applied last
    objective: str | None = None  # the grpo trainer's reward: one of OBJECTIVES
    round: int | None = None  # an iterative round (>= 2), trained from the previous round's checkpoint

    def __post_init__(self):
        if self.trainer not in TRAINERS:
            raise ValueError(f"method {self.name}: trainer {self.trainer!r} is not one of {TRAINERS}")
        if self.data not in DATA_RULES:
            raise ValueError(f"method {self.name}: data {self.data!r} is not one of {tuple(DATA_RULES)}")
        if self.data not in TRAINER_DATA[self.trainer]:
            raise ValueError(f"method {self.name}: the {self.trainer} trainer takes {TRAINER_DATA[self.trainer]} data")
        if (self.trainer == "grpo") != (self.objective is not None) or (
            self.objective is not None and self.objective not in OBJECTIVES
        ):
            raise ValueError(f"method {self.name}: the grpo trainer, and only it, takes an objective of {OBJECTIVES}")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.name):
            raise ValueError(f"method name {self.name!r}: lower-case letters, digits and _ only")


@dataclass(frozen=True)
class Control:
    """The reference model decoded differently; `decoding(config)` gives what changes."""

    name: str
    label: str
    decoding: object  # callable(config) -> dict of evaluation settings


METHODS: dict[str, Method] = {}
CONTROLS: dict[str, Control] = {}


def register(entry: Method | Control) -> Method | Control:
    """Add a method or a control; the rules, the report and the config check see it at once."""
    table = METHODS if isinstance(entry, Method) else CONTROLS
    if entry.name in METHODS or entry.name in CONTROLS or entry.name == REFERENCE:
        raise ValueError(f"{entry.name!r} is already registered")
    table[entry.name] = entry
    return entry


register(Method("o1_pruner", "O1-Pruner", trainer="o1_pruner", data="length_harmonizing"))
register(Method("sft", "SFT", trainer="sft", data="shortest_correct"))
register(Method("dpo", "DPO", trainer="dpo", data="shortest_vs_longest"))
# O1-Pruner with the length term paid to right samples only (src/o1pruner/reward.py says why):
# aimed at the collapse the estimate-check toy shows, where short wrong answers out-earn checks.
register(
    Method("o1_pruner_gated", "O1-Pruner (length term if right)", trainer="o1_pruner", data="length_harmonizing",
           reward={"length_term": "correct_only"})
)  # fmt: skip
# O1-Pruner as the paper's equations write it (Eqs. 3-5), beside the released code's form that
# `o1_pruner` follows: every one of the K samples, the raw reward (no clip, no z-score) and the
# sequence-probability ratio pi(y|x) / pi_ref(y|x) (docs/method.md has the table).
register(
    Method("o1_pruner_paper", "O1-Pruner (paper's equations)", trainer="o1_pruner", data="length_harmonizing",
           reward={"samples_per_problem": "all", "reward_clip": None, "normalize": "none"},
           training={"o1_pruner_ratio": "sequence"})
)  # fmt: skip
# Off-policy, from the same pre-samples: SimPO's reference-free, length-normalised preference
# loss on the DPO pairs (arXiv 2405.14734), and DAST's budget-aware pairs with the same loss, its
# paper's choice (arXiv 2503.04472).
register(Method("simpo", "SimPO", trainer="simpo", data="shortest_vs_longest"))
register(Method("dast", "DAST", trainer="simpo", data="budget_pairs"))
# On-policy (GRPO rollouts), one reward each over the same training problems (name, label,
# objective; the paper of each is in src/o1pruner/length_rewards.py).
# The optimiser is GRPO (TRL) for each, with `training.grpo`'s advantage scaling and loss unless
# the entry sets its own: Arora & Zanette's released optimiser is RLOO, a group-mean baseline
# without division by the group's standard deviation (which in an all-correct group would cancel
# the penalty weight alpha). docs/method.md: each method's optimiser against its source.
for _name, _label, _objective, _grpo in (
    ("o1_pruner_online", "O1-Pruner (online)", "o1_pruner", {}),
    ("kimi", "Kimi-1.5 length penalty", "kimi", {}),
    ("shorter_better", "ShorterBetter", "shorter_better", {}),
    ("length_normalized", "Length-normalised (Arora & Zanette)", "length_normalized", {"scale_rewards": "none"}),
    ("thinkprune", "ThinkPrune (hard cap)", "hard_cap", {}),
    ("grpo_accuracy", "GRPO, accuracy only (control)", "accuracy", {}),
):
    register(
        Method(_name, _label, trainer="grpo", data="reference_prompts", objective=_objective,
               training={"grpo": _grpo} if _grpo else {})
    )  # fmt: skip
register(
    Control(
        "marker_ban",
        "Marker ban (no training)",
        lambda config: {"banned_phrases": list(config["evaluation"]["overthinking_markers"])},
    )
)
register(Control("fast_prompt", "Fast-solving prompt", lambda config: {"fast_prompt": True}))


def lambda_tag(value: float) -> str:
    return format(float(value), "g").replace(".", "p")


def _o1_pruner_variant(suffix: str, label: str, reward: dict, ablation: str) -> Method:
    base = METHODS["o1_pruner"]
    return replace(
        base, name=f"{base.name}_{suffix}", label=f"{base.label} ({label})", reward=reward, variant_of=base.name,
        ablation=ablation,
    )  # fmt: skip


def lambda_variant(value: float) -> Method:
    return _o1_pruner_variant(
        f"lambda{lambda_tag(value)}", f"λ={format(float(value), 'g')}", {"lambda": float(value)}, "lambda"
    )


def band_variant(band: str) -> Method:
    return _o1_pruner_variant(band, BAND_LABELS[band], {"difficulty_band": list(DIFFICULTY_BANDS[band])}, "difficulty")


_VARIANT = re.compile(r"^o1_pruner_(lambda(?P<lam>[0-9]+(p[0-9]+)?)|(?P<band>" + "|".join(DIFFICULTY_BANDS) + "))$")


def method(name: str) -> Method:
    """The method of a name: a registered one or an O1-Pruner ablation variant."""
    if name in METHODS:
        return METHODS[name]
    m = _VARIANT.match(name)
    if m and m.group("lam"):
        return lambda_variant(float(m.group("lam").replace("p", ".")))
    if m:
        return band_variant(m.group("band"))
    grid = _grid_method(name)
    if grid is not None:
        return grid
    iterated = _round_method(name)
    if iterated is not None:
        return iterated
    raise UnknownName(f"{name!r} is not a registered method (registered: {', '.join(METHODS)})")


# What a selection grid (`selection.grid`) may vary: key -> (config section, tag in the run name).
GRID_KEYS = {
    "samples_per_problem": ("reward", "m"),
    "lambda": ("reward", "lam"),
    "learning_rate": ("training", "lr"),
    "epochs": ("training", "ep"),
}
_GRID = re.compile(
    r"^(?P<base>[a-z][a-z0-9_]*?)(_m(?P<samples_per_problem>[0-9]+))?(_lam(?P<lambda>[0-9p]+))?"
    r"(_lr(?P<learning_rate>[0-9pem]+))?(_ep(?P<epochs>[0-9p]+))?$"
)


def value_tag(value: float) -> str:
    """A number as a name part: 5e-05 -> 5em05, 0.5 -> 0p5."""
    return format(float(value), "g").replace(".", "p").replace("-", "m")


def _tag_value(key: str, tag: str):
    value = float(tag.replace("p", ".").replace("m", "-"))
    return int(value) if key == "samples_per_problem" else value


def grid_variant(base_name: str, point: dict) -> Method:
    """The method `base_name` with the hyperparameters of one selection grid point, e.g.
    `o1_pruner_lam2_lr5em05` (trained with the first seed, evaluated on the validation split)."""
    base = METHODS[base_name]
    keys = [k for k in GRID_KEYS if k in point]
    if not keys or set(point) - set(GRID_KEYS):
        raise ValueError(f"a grid point sets some of {', '.join(GRID_KEYS)}, got {point!r}")
    suffix = "_".join(f"{GRID_KEYS[k][1]}{value_tag(point[k])}" for k in keys)
    shown = ", ".join(f"{'λ' if k == 'lambda' else GRID_KEYS[k][1]} {format(float(point[k]), 'g')}" for k in keys)
    reward = {k: point[k] for k in keys if GRID_KEYS[k][0] == "reward"}
    return replace(
        base, name=f"{base.name}_{suffix}", label=f"{base.label} ({shown})", reward={**base.reward, **reward},
        variant_of=base.name, ablation=SELECTION, grid={k: point[k] for k in keys},
    )  # fmt: skip


def _grid_method(name: str) -> Method | None:
    m = _GRID.match(name)
    if not m or m.group("base") not in METHODS:
        return None
    point = {k: _tag_value(k, m.group(k)) for k in GRID_KEYS if m.group(k) is not None}
    return grid_variant(m.group("base"), point) if point else None


# Iterative rounds (`rounds`): `<method>_r<N>` is round N of a registered method, trained from
# round N-1's checkpoint (round 1 is the method itself). Length-harmonizing methods pre-sample
# again from that checkpoint; GRPO methods continue on the same prompts (ThinkPrune with the
# next, smaller cap).
_ROUND = re.compile(r"^(?P<base>[a-z][a-z0-9_]*?)_r(?P<round>[0-9]+)$")


def round_variant(base_name: str, number: int) -> Method:
    base = METHODS[base_name]
    if number < 2:
        raise ValueError(f"round {number} of {base_name}: rounds after the first are numbered from 2")
    return replace(base, name=f"{base.name}_r{number}", label=f"{base.label} (round {number})", variant_of=base.name,
                   round=number)  # fmt: skip


def _round_method(name: str) -> Method | None:
    m = _ROUND.match(name)
    if not m or m.group("base") not in METHODS:
        return None
    return round_variant(m.group("base"), int(m.group("round")))


def previous_round(m: Method) -> str:
    """The method whose checkpoint round m starts from."""
    return m.variant_of if m.round == 2 else f"{m.variant_of}_r{m.round - 1}"


def round_count(spec: dict) -> int:
    """How many rounds a `rounds.<method>` entry makes (ThinkPrune: one per cap)."""
    return len(spec["hard_cap_tokens"]) if spec.get("hard_cap_tokens") else spec["n"]


def round_methods(config: dict) -> list[Method]:
    """Rounds 2..N of every method in `rounds`."""
    return [round_variant(base, r) for base, spec in config["rounds"].items() for r in range(2, round_count(spec) + 1)]


def is_ablation(name: str) -> bool:
    try:
        return method(name).ablation is not None
    except UnknownName:
        return False


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
