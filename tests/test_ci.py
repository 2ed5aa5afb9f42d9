"""CI runs the README's Quick-start lines exactly as a reader would type them."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def readme_quick_start() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def ci_lines() -> list[str]:
    text = (REPO / ".ci" / "run").read_text()
    section = text.split("# >>> README Quick start\n", 1)[1].split("# <<< README Quick start", 1)[0]
    return [line.strip() for line in section.splitlines() if line.strip()]


def test_ci_runs_the_readme_lines_verbatim():
    readme = readme_quick_start()
    ci = ci_lines()
    assert ci and all(line in readme for line in ci), (ci, readme)
    # The run line on the embedded default and the test line are both in the Quick start.
    assert "bash scripts/setup.sh && .venv/bin/snakemake --cores all" in readme
    assert "bash scripts/test.sh" in ci


def test_nothing_puts_the_venv_on_the_path_for_the_run_line():
    """The run line must work as typed: neither CI nor the scripts set PATH for it."""
    for script in (".ci/run", "scripts/setup.sh", "scripts/test.sh"):
        assert "PATH" not in (REPO / script).read_text(), script
