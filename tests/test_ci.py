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


# The Quick start's default-run line (87 jobs, ~20 min on 2 cores) is the one line CI leaves
# out: with the test suite it would take CI past its 60 minutes; the tests plan it (`-n`).
DEFAULT_RUN = "bash scripts/setup.sh && .venv/bin/snakemake --cores all"


def test_ci_runs_the_readme_lines_verbatim():
    """Every Quick-start line but the default run, in the README's order: removing or changing
    a line on either side fails this."""
    readme = readme_quick_start()
    assert DEFAULT_RUN in readme
    assert ci_lines() == [line for line in readme if line != DEFAULT_RUN], (ci_lines(), readme)


def test_nothing_puts_the_venv_on_the_path_for_the_run_line():
    """The run line must work as typed: neither CI nor the scripts set PATH for it."""
    for script in (".ci/run", "scripts/setup.sh", "scripts/test.sh"):
        assert "PATH" not in (REPO / script).read_text(), script
