"""Splice a generated results summary into a Markdown page between its markers.

`results/` is not versioned, so the figures the summary shows are copied into a folder beside
the page (`<page dir>/<block or page name>/`) and the links rewritten to point there. A page
can hold several result blocks (a toy variant at two learning rates): `block` names the markers
and the figures' folder.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path


def markers(block: str | None = None) -> tuple[str, str]:
    name = f"results:{block}" if block else "results"
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def splice_results(summary_path: str, page_path: str, block: str | None = None) -> None:
    begin, end = markers(block)
    page = Path(page_path)
    text = page.read_text()
    if begin not in text or end not in text:
        raise ValueError(f"{page_path} has no {begin} ... {end} section")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    body = Path(summary_path).read_text().strip()
    assets_name = block or page.stem
    assets = page.parent / assets_name
    assets.mkdir(parents=True, exist_ok=True)

    def copy_figure(m: re.Match) -> str:
        src = Path(summary_path).parent / m.group(2)  # links are relative to the summary page
        shutil.copy(src, assets / src.name)
        return f"![{m.group(1)}]({assets_name}/{src.name})"

    body = re.sub(r"!\[([^\]]*)\]\(([^)]+\.png)\)", copy_figure, body)
    page.write_text(f"{head}{begin}\n{body}\n{end}{tail}")
