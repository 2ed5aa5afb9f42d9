"""The registry: every method and control a config may name (`Method`, `Control`, `register`),
the kinds of training data and the trainers that take them, and the built-in entries.
Standard library only: the rules import it while Snakemake plans the run."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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
