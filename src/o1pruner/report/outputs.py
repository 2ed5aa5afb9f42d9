"""The names of every table and figure the report writes: one list for the report code and the
`report` rule's declared outputs. Standard library only (the rules import it while planning)."""

from __future__ import annotations

TABLES = (
    "main_results",
    "per_run",
    "by_level",
    "flips",
    "reference_profile",
    "lambda_ablation",
    "difficulty_ablation",
    "length_intervals",
)
# Written where the report is given the ledger's plan (the `report` rule always gives it).
LEDGER_TABLES = ("compute_ledger",)
# Written where some test set is evaluated with sampling (evaluation.sampled).
SAMPLED_TABLES = ("sampled_results",)
SAMPLED_FIGURES = {"accuracy_vs_tokens_sampled": "Sampled accuracy vs tokens"}
# Written where the model has a thinking block (prompt.thinking_end).
THINKING_TABLES = ("thinking_split",)
# Written where budgets are evaluated (evaluation.budget_forcing.budgets).
BUDGET_TABLES = ("budget_results",)
BUDGET_FIGURES = {"accuracy_vs_budget": "Accuracy vs thinking budget"}
# Written where hyperparameters are picked on a validation split (selection.methods).
SELECTION_TABLES = ("hyperparameter_selection",)
# Written only for the estimate-check toy (toy.solution_style: estimate_check).
STYLE_TABLES = ("toy_solution_styles", "toy_reward_by_style")

# Figure name -> title, in the order the summary shows them.
FIGURES = {
    "length_distribution": "Length distribution",
    "accuracy_vs_tokens": "Accuracy vs tokens",
    "tokens_by_difficulty": "Tokens by difficulty",
    "inference_cost": "Inference cost",
    "length_intervals": "Length intervals",
}
