"""Splice the generated results summary into README.md between its markers.

`results/` is not versioned, so the figures the summary shows are copied next to the README
(`docs/results/`) and the links rewritten to point there. A README can hold several result
blocks (the default toy and its variants): `block` names the markers and the figures' folder.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path


def markers(block: str | None = None) -> tuple[str, str]:
    name = f"results:{block}" if block else "results"
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def splice_results(summary_path: str, readme_path: str, block: str | None = None) -> None:
    begin, end = markers(block)
    assets_dir = f"docs/results/{block}" if block else "docs/results"
    readme_file = Path(readme_path)
    readme = readme_file.read_text()
    if begin not in readme or end not in readme:
        raise ValueError(f"{readme_path} has no {begin} ... {end} section")
    head, rest = readme.split(begin, 1)
    _, tail = rest.split(end, 1)
    body = Path(summary_path).read_text().strip()
    assets = readme_file.parent / assets_dir
    assets.mkdir(parents=True, exist_ok=True)

    def copy_figure(m: re.Match) -> str:
        src = Path(m.group(2))
        shutil.copy(src, assets / src.name)
        return f"![{m.group(1)}]({assets_dir}/{src.name})"

    body = re.sub(r"!\[([^\]]*)\]\(([^)]+\.png)\)", copy_figure, body)
    readme_file.write_text(f"{head}{begin}\n{body}\n{end}{tail}")
