"""The summary page (results/tables/<model>/summary.md) and the tables behind it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..runs import REFERENCE
from .markdown import to_markdown
from .outputs import BUDGET_FIGURES, FIGURES, SAMPLED_FIGURES

FIGURE_TITLES = {**FIGURES, **SAMPLED_FIGURES, **BUDGET_FIGURES}

GRADING_CAPTION = (
    "`accuracy` is the strict rule (the paper's: the last `\\boxed{}`); `accuracy_flexible` also reads a "
    'finished response without a box (math-verify\'s extraction: "the final answer is ...", then the last '
    "expression of its answer). `truncated_rate`: responses that hit the token cap; `thinking_unclosed_rate`: "
    "cut off before closing the thinking block, which count as wrong under both rules (no answer was given)."
)

AES_CAPTION = (
    "`aes_formula` is the paper's Accuracy-Efficiency Score (Eq. 9: dL + 3 dA, or dL - 5 |dA| when accuracy "
    "drops), the one to rank by; `aes` is the form the paper's Table 2 prints (dL + 3 |dA|, an accuracy drop "
    "scored like a gain), shown to compare with the published numbers."
)

STYLES_CAPTION = (
    'Which "Wait," each method keeps (estimate-check toy; seeds pooled): `check_kept` = % of responses that '
    'still check the estimate step by step, `restatements` = redundant "Wait," segments per response:'
)
STYLE_REWARDS_CAPTION = (
    "What the reward asks for (estimate-check toy): over all pre-samples, the share, accuracy and length of "
    "each style per level and its mean clipped O1-Pruner reward at several lambdas (at the run's lambda also "
    "over right and wrong samples apart, and `reward_gated_*` with the length term paid to right samples only, "
    "the o1_pruner_gated method); the policy gradient moves towards the style with the higher reward:"
)


@dataclass
class ReportTables:
    """Every table the report writes, by its file name (results/tables/<model>/<name>.csv)."""

    main_results: pd.DataFrame
    per_run: pd.DataFrame
    by_level: pd.DataFrame
    flips: pd.DataFrame
    reference_profile: pd.DataFrame
    lambda_ablation: pd.DataFrame
    difficulty_ablation: pd.DataFrame
    length_intervals: pd.DataFrame | None = None
    sampled_results: pd.DataFrame | None = None
    thinking_split: pd.DataFrame | None = None
    budget_results: pd.DataFrame | None = None
    hyperparameter_selection: pd.DataFrame | None = None
    toy_solution_styles: pd.DataFrame | None = None
    toy_reward_by_style: pd.DataFrame | None = None
    compute_ledger: pd.DataFrame | None = None

    def written(self) -> dict[str, pd.DataFrame]:
        """name -> table, for the tables this run has."""
        return {name: df for name, df in vars(self).items() if df is not None}

    def style_sections(self) -> list[tuple[str, pd.DataFrame]]:
        """(caption, table) sections of the summary that only the estimate-check toy has."""
        sections = [(STYLES_CAPTION, self.toy_solution_styles), (STYLE_REWARDS_CAPTION, self.toy_reward_by_style)]
        return [(caption, df) for caption, df in sections if df is not None]


def provenance_line(prov: dict) -> str:
    pk = ", ".join(f"{k} {v}" for k, v in prov["packages"].items())
    files = " + ".join(prov.get("config_files") or [])
    return f"_config {prov['config_sha256'][:12]} ({files}), commit {prov['git_commit']}, {pk}_"


REHEARSAL_CAPTION = (
    "**A CPU rehearsal, not the real run.** Every key below was changed from the real config so that the run fits "
    "this machine (a tiny model with the real tokenizer, briefly trained on the training split's gold solutions; "
    "fewer problems, samples, tokens and steps); everything else is the real run's. The numbers say that every "
    "rule ran, not how the real model does."
)


def rehearsal_section(prov: dict) -> list[str]:
    """The table of keys a CPU rehearsal changed (real value, rehearsal value), or nothing."""
    rows = prov.get("rehearsal")
    if not rows:
        return []
    table = pd.DataFrame(rows, columns=["key", "real run", "rehearsal"]).astype(str)
    return ["", REHEARSAL_CAPTION, "", to_markdown(table), ""]


# The project's acceptance bar for O1-Pruner against the reference on each test set.
TARGET_TOKEN_RATIO = 0.70  # at most this share of the reference's greedy tokens
TARGET_ACCURACY_CHANGE = -1.0  # accuracy points: lose at most one


def target_check(main: pd.DataFrame, method: str = "o1_pruner", reference: str = REFERENCE) -> list[str]:
    """The project's acceptance bar, stated with the measured numbers (never tuned)."""
    lines = []
    for dataset, g in main[main["dataset"] != "average"].groupby("dataset", sort=False):
        ref = g[g["method"] == reference]
        run = g[g["method"] == method]
        if ref.empty or run.empty:
            continue
        ratio = float(run["mean_tokens"].iloc[0] / ref["mean_tokens"].iloc[0])
        d_acc = float(run["accuracy"].iloc[0] - ref["accuracy"].iloc[0])
        ok = ratio <= TARGET_TOKEN_RATIO and d_acc >= TARGET_ACCURACY_CHANGE
        lines.append(
            f"- **{dataset}**: {method} greedy tokens are {ratio:.2f}x the reference's "
            f"(target <= {TARGET_TOKEN_RATIO:.2f}) and accuracy changes by {d_acc:+.2f} points "
            f"(target >= {TARGET_ACCURACY_CHANGE:.2f}): "
            f"**{'met' if ok else 'not met'}** (mean over {int(run['n_seeds'].iloc[0])} seed(s))."
        )
    return lines


def sampled_section(sampled: pd.DataFrame) -> list[str]:
    """The sampled evaluation: per run, what the interval and pass@k mean."""
    first = sampled.iloc[0]
    pass_columns = [c for c in sampled.columns if c.startswith("pass@")]
    show = sampled[
        ["run", "dataset", "samples_per_problem", "accuracy", "accuracy_ci_low", "accuracy_ci_high", *pass_columns]
        + ["mean_tokens", "mean_tokens_ci_low", "mean_tokens_ci_high", "truncated_rate"]
    ]
    return [
        f"Sampled evaluation (`evaluation.sampled`): n responses per problem (`samples_per_problem`) at "
        f"T={first['temperature']:g}, top-p {first['top_p']:g}. `accuracy` is avg@n, `mean_tokens` the generated "
        "tokens per response (end-of-turn included); both with a 95% percentile-bootstrap interval over problems "
        "(`*_ci_low`, `*_ci_high`: problems are resampled whole, since the n responses to one problem are not "
        "independent). `pass@k` is the unbiased estimator of Chen et al. (2021) from the n responses; "
        "`truncated_rate` the % of responses cut at the token cap.",
        "",
        to_markdown(show),
        "",
    ]


def thinking_section(thinking: pd.DataFrame) -> list[str]:
    return [
        "Thinking and answer tokens (greedy; mean over seeds): every response's generated token ids split at the "
        "first token that closes the thinking block (`prompt.thinking_end`): `mean_thinking_tokens` up to and "
        "including it, `mean_answer_tokens` after it, so the two add up to `mean_tokens`; `thinking_closed_rate` "
        "= % of responses that closed their thinking (one that never closes it counts as all thinking).",
        "",
        to_markdown(thinking),
        "",
    ]


def budget_section(budgets: pd.DataFrame) -> list[str]:
    return [
        "Budget forcing (`evaluation.budget_forcing`; greedy; mean and standard deviation over seeds): the thinking "
        "is capped at `budget` tokens; where it is still open there, the closing marker and the answer cue are "
        "written and the model answers. `mean_thinking_tokens` <= budget and `mean_answer_tokens` are generated "
        "tokens (the inserted marker and cue are in neither); `forced_rate` = % of responses whose thinking the "
        "budget closed; `mean_answer_tokens_forced`: what those responses generated after the forced close (a "
        "model may go on reasoning there, up to `answer_max_tokens`, which the budget does not cap).",
        "",
        to_markdown(budgets),
        "",
    ]


def selection_section(selection: pd.DataFrame, picks: list[dict]) -> list[str]:
    lines = [
        "Hyperparameters picked on the validation split, never on the test sets (`selection`): every grid point "
        "was trained with the first seed and evaluated greedily on the validation split; the rule: "
        f"{picks[0]['rule']}. The method's test rows above are its runs with the pick (every seed).",
        "",
    ]
    for p in picks:
        shown = ", ".join(f"{k} {v:g}" for k, v in p["picked"].items())
        lines.append(f"- **{p['method']}**: {shown} (`{p['picked_method']}`): {p['reason']}.")
    return [*lines, "", to_markdown(selection), ""]


def ledger_section(ledger: pd.DataFrame) -> list[str]:
    shown = ledger.drop(columns=["label"]).replace([float("inf")], "never")
    return [
        "Compute ledger (mean over seeds): what the pruning cost on this machine, from Snakemake's benchmark files "
        "(`train_wall_s`: the method's fine-tuning and its own data jobs; `selection_wall_s`: its validation grid; "
        "`presample_wall_s`: the shared pre-sampling, counted in full for every method that needs it; device-, "
        "CPU- and GPU-hours likewise; `device_hours`: each job's wall time x the devices it held, its GPUs or, "
        "without GPUs, the one machine), the tokens generated in pre-sampling and rollouts and trained on, the "
        "greedy tokens, seconds and device-seconds saved per test problem against the reference (at the "
        "reference's measured generation speed, on the evaluation job's devices), and `break_even_problems`: "
        "problems answered before the saved device-seconds have paid for `device_hours` (never: the method does "
        "not shorten answers), beside `accuracy_change_points`: greedy accuracy against the reference's, which "
        "the break-even does not weigh. `est_*`: the same from token counts at the config's `ledger` throughputs.",
        "",
        to_markdown(shown),
        "",
    ]


def render_summary(t: ReportTables, prov: dict, figures_dir: str, figure_names=(), picks=()) -> str:
    """The summary page: every table with its caption, then the figures."""
    main, per_run, levels, flips, profile = t.main_results, t.per_run, t.by_level, t.flips, t.reference_profile
    lambdas, difficulty, intervals = t.lambda_ablation, t.difficulty_ablation, t.length_intervals
    show = main[
        [
            "method",
            "dataset",
            "n_problems",
            "accuracy",
            "accuracy_std",
            "mean_tokens",
            "mean_tokens_std",
            "token_ratio",
            "aes_formula",
            "aes",
            "n_seeds",
            "truncated_rate",
            *(["thinking_unclosed_rate"] if "thinking_unclosed_rate" in main else []),
            "accuracy_flexible",
            "wall_time_s",
        ]
    ]
    fig = Path(figures_dir)
    parts = [
        "<!-- generated by `o1pruner report`; do not edit by hand -->",
        provenance_line(prov),
        *rehearsal_section(prov),
        "",
        "Greedy decoding on the held-out test split. Mean over fine-tuning seeds, with the standard "
        "deviation over seeds (`*_std`). `mean_tokens` counts every generated token id of a response "
        "(thinking and answer, end-of-turn included; never re-tokenised text); `token_ratio` is mean "
        "tokens relative to the reference. " + AES_CAPTION + " " + GRADING_CAPTION,
        "",
        to_markdown(show),
        "",
        *target_check(main),
        "",
        *(sampled_section(t.sampled_results) if t.sampled_results is not None else []),
        *(thinking_section(t.thinking_split) if t.thinking_split is not None else []),
        *(budget_section(t.budget_results) if t.budget_results is not None else []),
        *(selection_section(t.hyperparameter_selection, picks) if picks else []),
        *(ledger_section(t.compute_ledger) if t.compute_ledger is not None else []),
        "Per run:",
        "",
        to_markdown(
            per_run[
                [
                    "run",
                    "dataset",
                    "accuracy",
                    "mean_tokens",
                    "marker_rate",
                    "unparseable_rate",
                    "truncated_rate",
                    "wall_time_s",
                ]
            ]
        ),
        "",
        "Paired flips against the reference (same problems):",
        "",
        to_markdown(flips),
        "",
        "By difficulty level (mean over seeds):",
        "",
        to_markdown(levels),
        "",
        "Reference profile (`reference` greedy and sampled (`evaluation.sampled`), and the training pre-samples):",
        "",
        to_markdown(profile),
        "",
        *(
            [
                "Lambda ablation (Table 3 of the paper; means over the test sets; `avg_aes_formula` is the paper's "
                "AES, which ranks, `avg_aes_published` the form its tables print):",
                "",
                to_markdown(lambdas),
                "",
            ]
            if len(lambdas) > 1
            else []
        ),
        *(
            [
                "Difficulty ablation (Figure 4 of the paper): O1-Pruner trained on the hardest 0-40%, middle 30-70% or "
                "easiest 60-100% of the training problems by pre-sampled accuracy (AES as in the main table):",
                "",
                to_markdown(difficulty),
                "",
            ]
            if len(difficulty)
            else []
        ),
        *(
            [
                "Accuracy within length intervals of the pre-samples (Table 1 of the paper; 1 = shortest quarter of "
                "each problem's samples):",
                "",
                to_markdown(intervals),
                "",
            ]
            if intervals is not None
            else []
        ),
        *(line for caption, table in t.style_sections() for line in (caption, "", to_markdown(table), "")),
        *(f"![{FIGURE_TITLES[name]}]({fig / name}.png)" for name in figure_names),
        "",
    ]
    return "\n".join(parts)
