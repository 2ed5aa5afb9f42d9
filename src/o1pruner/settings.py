"""Each stage's settings as one typed object, built where the command line hands them over.

The rules pass a stage its settings as JSON made from the validated config (see
`job_settings`), so every value is present: the schema (config/schema.yaml) is the only place a
default lives, and none is repeated here. `from_json` refuses a missing or unknown key with
one line that names it, so a stage run by hand with incomplete settings stops before any work.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields

from .io import InputError

# JSON keys that are Python keywords, stored under another field name.
_FIELD_OF_KEY = {"lambda": "lambda_"}
_KEY_OF_FIELD = {v: k for k, v in _FIELD_OF_KEY.items()}


class Settings:
    """Strict construction from, and conversion back to, the JSON the rules pass."""

    @classmethod
    def from_json(cls, data: dict, what: str = "--settings"):
        if not isinstance(data, dict):
            raise InputError(f"{what} must be a JSON object")
        known = {_KEY_OF_FIELD.get(f.name, f.name): f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise InputError(f"{what}: unknown key {unknown[0]!r} for {cls.__name__} (known: {', '.join(known)})")
        missing = sorted(k for k, f in known.items() if k not in data and _required(f))
        if missing:
            raise InputError(f"{what}: key {missing[0]!r} is missing for {cls.__name__}")
        values = {}
        for key, f in known.items():
            if key not in data:
                continue
            value = data[key]
            nested = _NESTED.get((cls.__name__, f.name))
            if nested is not None and value is not None:
                value = nested.from_json(value, f"{what}.{key}")
            values[f.name] = value
        return cls(**values)

    def to_json(self) -> dict:
        return {_KEY_OF_FIELD.get(k, k): v for k, v in dataclasses.asdict(self).items()}


def _required(f) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


@dataclass(frozen=True)
class ToyDataSettings(Settings):
    """What the toy problems depend on (`toy` section: not how the reference solves them)."""

    seed: int
    n_train: int
    n_test: int
    levels: list


@dataclass(frozen=True)
class ToyValidationSettings(ToyDataSettings):
    """The toy world's validation split (`selection.validation.n` problems)."""

    n_validation: int


@dataclass(frozen=True)
class VllmSettings(Settings):
    """The config's `vllm` section without `venv` (where the engine runs is not what it computes)."""

    tensor_parallel_size: int
    max_model_len: int | None
    gpu_memory_utilization: float
    enforce_eager: bool
    cpu_kv_cache_gib: float


@dataclass(frozen=True)
class ModelSettings(Settings):
    """How the model is loaded and prompted: shared by every stage that runs it."""

    dtype: str
    trust_remote_code: bool
    system_prompt: str | None
    answer_box: str


@dataclass(frozen=True)
class PresampleSettings(ModelSettings):
    """`sampling` section: K samples per problem from the reference."""

    backend: str
    k: int
    temperature: float
    top_p: float
    max_new_tokens: int
    batch_size: int
    seed: int
    vllm: VllmSettings | None
    # prompt.thinking_end: thinking and answer tokens counted apart. Absent without a thinking
    # block, so the settings (and the artifacts) of a model without one are as they were.
    thinking_end: str | None = None


@dataclass(frozen=True)
class BudgetForcingSettings(Settings):
    """One budget of `evaluation.budget_forcing`: thinking capped at `budget` tokens."""

    budget: int
    answer_cue: str
    answer_max_tokens: int


@dataclass(frozen=True)
class BudgetGridSettings(Settings):
    """`evaluation.budget_forcing` for one evaluation job: every budget, decoded by one loaded
    model (a model load, vLLM's above all, costs more than a small test set's decoding)."""

    budgets: list
    answer_cue: str
    answer_max_tokens: int

    def each(self) -> list[BudgetForcingSettings]:
        return [BudgetForcingSettings(b, self.answer_cue, self.answer_max_tokens) for b in self.budgets]


@dataclass(frozen=True)
class EvaluationSettings(ModelSettings):
    """`evaluation` section and the run's decoding (`runs.run_decoding`, `runs.sampled_decoding`)."""

    backend: str
    max_new_tokens: int
    batch_size: int
    vllm: VllmSettings | None
    do_sample: bool
    num_samples: int
    temperature: float
    top_p: float
    seed: int
    pass_k: list
    fast_prompt: bool
    banned_phrases: list
    # Absent where unset (no thinking block; not a budget-forced job): see PresampleSettings.
    thinking_end: str | None = None
    budget_forcing: BudgetGridSettings | None = None


@dataclass(frozen=True)
class DrawSettings(Settings):
    """Which m pre-samples per problem a length-harmonizing method trains on."""

    samples_per_problem: int
    seed: int
    difficulty_band: list | None


@dataclass(frozen=True)
class RewardSettings(Settings):
    """The length-harmonizing reward and its normalisation (`reward` section)."""

    lambda_: float
    reward_clip: list | None
    normalize: str
    length_term: str | None = None  # "correct_only" (o1_pruner_gated); absent: the paper's


@dataclass(frozen=True)
class BaselineTrainsetSettings(Settings):
    """SFT / DPO data from the pre-samples."""

    data: str  # one of baseline_data.BUILDERS
    samples_per_problem: int
    score_margin: float | None = None  # budget_pairs (DAST) only: absent for the other data


@dataclass(frozen=True)
class LogprobSettings(ModelSettings):
    """Reference log-probs of the drawn samples."""

    cutoff_len: int
    logprob_batch_size: int


@dataclass(frozen=True)
class GrpoSettings(Settings):
    """The on-policy methods' rollouts and reward (`training.grpo`, the method's objective)."""

    objective: str
    objective_settings: dict
    generations: int
    max_completion_length: int
    temperature: float
    kl_beta: float
    scale_rewards: str
    loss_type: str
    # TRL's vLLM integration (`training.grpo.rollouts: vllm`): engine settings; absent, the
    # trainer generates with transformers (and those jobs' settings stay as they were).
    vllm_rollouts: dict | None = None


@dataclass(frozen=True)
class TrainingSettings(ModelSettings):
    """The `training` section as one method trains with it (its overrides applied)."""

    learning_rate: float
    epochs: float
    per_device_batch_size: int
    global_batch_size: int
    max_grad_norm: float
    gradient_checkpointing: bool
    attn_implementation: str
    pure_bf16: bool
    save_dtype: str
    lr_scheduler: str
    warmup_ratio: float
    weight_decay: float
    epsilon: float
    cutoff_len: int
    bf16: bool
    logprob_batch_size: int
    finetuning: str
    lora_r: int
    lora_alpha: int
    lora_dropout: float
    trainable_last_layers: int | None
    dpo_beta: float | None = None  # DPO only: absent for the other trainers
    simpo_beta: float | None = None  # SimPO only
    simpo_gamma: float | None = None  # SimPO only
    grpo: GrpoSettings | None = None  # GRPO only
    # O1-Pruner's ratio; present only where it is not the released code's per-token mean, so
    # the settings (and the artifacts) of every other run are as they were.
    o1_pruner_ratio: str = "token_mean"


@dataclass(frozen=True)
class ReportSettings(Settings):
    """What the report needs to know about the run (the `report` rule's `--provenance`)."""

    config_sha256: str
    model: str
    paper_name: str | None
    reward_lambda: float
    reward_clip: list | None
    toy_solution_style: str | None
    workflow_dir: str
    config_files: list  # the files the run's config was composed of, in order (config.layers)
    config_set_by: dict  # dotted key -> the file (or --config) that set it, where not the schema default
    rehearsal: list | None  # [key, real value, rehearsal value] rows of a CPU rehearsal; None for a real run


_NESTED = {
    ("PresampleSettings", "vllm"): VllmSettings,
    ("EvaluationSettings", "vllm"): VllmSettings,
    ("EvaluationSettings", "budget_forcing"): BudgetGridSettings,
    ("TrainingSettings", "grpo"): GrpoSettings,
}
