"""The package stays readable without scrolling: no module of src/o1pruner over 400 lines
(docs/ARCHITECTURE.md names one home per concept; a module that outgrows this holds two)."""

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "o1pruner"
MAX_LINES = 400


def test_no_module_over_400_lines():
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"
