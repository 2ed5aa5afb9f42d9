"""The naming grammar of generated methods: ablation variants (`o1_pruner_lambda<L>`,
`o1_pruner_<band>`), selection grid points (`<method>_lr<x>_m<n>_lam<y>`) and rounds
(`<method>_r<N>`), parsed back into `Method`s by `method(name)`, and the wildcard patterns the
rules match them with. Standard library only."""

from __future__ import annotations

import re
from dataclasses import replace

from .registry import BAND_LABELS, DIFFICULTY_BANDS, METHODS, SELECTION, Method, UnknownName


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
