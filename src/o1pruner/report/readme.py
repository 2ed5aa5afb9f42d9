"""Splice the generated results summary into README.md between its markers."""

from __future__ import annotations

from pathlib import Path

BEGIN = "<!-- results:begin -->"
END = "<!-- results:end -->"


def splice_results(summary_path: str, readme_path: str) -> None:
    readme = Path(readme_path).read_text()
    if BEGIN not in readme or END not in readme:
        raise ValueError(f"{readme_path} has no {BEGIN} ... {END} section")
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    body = Path(summary_path).read_text().strip()
    Path(readme_path).write_text(f"{head}{BEGIN}\n{body}\n{END}{tail}")
