"""The registry of methods and runs: every name the rules, the report and the tests use
(`registry.py`: the entries; `variants.py`: the names of generated methods; `plan.py`: the
runs a config plans, their names and decoding), one namespace: `runs.<name>`.

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

from .plan import (  # noqa: F401
    ALL_SAMPLES,
    all_runs,
    draw_name,
    grid_methods,
    grid_points,
    grid_runs,
    label,
    method_reward,
    method_wildcards,
    planned_methods,
    reference_runs,
    resampled,
    run_decoding,
    run_method,
    run_name,
    sampled_decoding,
    seeds_of,
    selected_methods,
    split_run,
    trained_methods,
    trained_runs,
    trainset_method,
    validation_runs,
    wildcard_pattern,
)
from .registry import (  # noqa: F401
    BAND_LABELS,
    CONTROLS,
    DATA_RULES,
    DIFFICULTY_BANDS,
    GROUP_OBJECTIVES,
    METHODS,
    OBJECTIVES,
    REFERENCE,
    SELECTION,
    TRAINER_DATA,
    TRAINERS,
    Control,
    Method,
    UnknownName,
    register,
)
from .variants import (  # noqa: F401
    _GRID,
    _ROUND,
    _VARIANT,
    GRID_KEYS,
    _grid_method,
    _o1_pruner_variant,
    _round_method,
    _tag_value,
    band_variant,
    grid_variant,
    is_ablation,
    lambda_tag,
    lambda_variant,
    method,
    previous_round,
    round_count,
    round_methods,
    round_variant,
    value_tag,
)
