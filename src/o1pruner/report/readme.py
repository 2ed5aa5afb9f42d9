"""Splice the generated results summary into README.md between its markers.

`results/` is not versioned, so the figures the summary shows are copied next to the README
(`docs/results/`) and the links rewritten to point there.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

BEGIN = "<!-- results:begin -->"
END = "<!-- results:end -->"


def splice_results(summary_path: str, readme_path: str, assets_dir: str = "docs/results") -> None:
    readme_file = Path(readme_path)
    readme = readme_file.read_text()
    if BEGIN not in readme or END not in readme:
        raise ValueError(f"{readme_path} has no {BEGIN} ... {END} section")
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    body = Path(summary_path).read_text().strip()
    assets = readme_file.parent / assets_dir
    assets.mkdir(parents=True, exist_ok=True)

    def copy_figure(m: re.Match) -> str:
        src = Path(m.group(2))
        shutil.copy(src, assets / src.name)
        return f"![{m.group(1)}]({assets_dir}/{src.name})"

    body = re.sub(r"!\[([^\]]*)\]\(([^)]+\.png)\)", copy_figure, body)
    readme_file.write_text(f"{head}{BEGIN}\n{body}\n{END}{tail}")
