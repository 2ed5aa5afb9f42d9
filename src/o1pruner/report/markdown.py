"""Minimal Markdown table rendering (no extra dependency)."""

from __future__ import annotations

import pandas as pd


def to_markdown(df: pd.DataFrame, floatfmt: str = ".2f") -> str:
    def cell(v):
        if isinstance(v, float):
            return "" if pd.isna(v) else format(v, floatfmt)
        return str(v)

    header = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "|".join("---:" if pd.api.types.is_numeric_dtype(df[c]) else "---" for c in df.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([header, rule, *rows])
