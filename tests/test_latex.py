"""The LaTeX main table compiles with pdflatex (booktabs) and shows display names and both AES forms."""

import shutil
import subprocess

import pandas as pd
import pytest

from o1pruner.report import latex
from o1pruner.report.latex import to_latex


def main_table() -> pd.DataFrame:
    rows = [
        ("reference", "math500", 80.0, 1000.0, 1.0, 0.0, 0.0, 1, None, None),
        ("fast_prompt", "math500", 9.0, 1610.0, 1.61, -5.13, 2.10, 1, None, None),
        ("o1_pruner", "math500", 79.5, 500.0, 0.5, 0.47, 0.50, 3, 0.1, 2.0),
        ("o1_pruner_lambda0p5", "math500", 78.0, 480.0, 0.48, 0.4, 0.5, 1, None, None),
        ("o1_pruner_hard", "average", 78.0, 480.0, 0.48, 0.4, 0.5, 1, None, None),
    ]
    cols = ["method", "dataset", "accuracy", "mean_tokens", "token_ratio", "aes_formula", "aes", "n_seeds"]
    return pd.DataFrame(rows, columns=cols + ["accuracy_std", "mean_tokens_std"])


def test_table_content():
    tex = to_latex(main_table())
    assert "\\toprule" in tex and "MATH-500" in tex and "O1-Pruner ($\\lambda$=0.5)" in tex
    assert "Fast-solving prompt" in tex and "$-5.13$ & 2.10" in tex and "79.50 $\\pm$ 0.10" in tex
    body = tex.split("\\midrule", 1)[1].split("\\bottomrule")[0]
    assert "_" not in body.replace("\\_", "")  # no raw underscore in any cell


def _compiles(tex: str, tmp_path) -> bool:
    doc = tmp_path / "doc.tex"
    doc.write_text("\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n" + tex + "\\end{document}\n")
    run = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", doc.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return run.returncode == 0 and (tmp_path / "doc.pdf").exists()


needs_tex = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed (.ci/run installs it)")


@needs_tex
def test_compiles_with_pdflatex(tmp_path):
    assert _compiles(to_latex(main_table()), tmp_path)


@needs_tex
def test_unescaped_names_would_not_compile(tmp_path, monkeypatch):
    """Negative case: the same table with code names left raw (as pandas' to_latex wrote them)."""
    monkeypatch.setattr(latex, "escape", str)
    monkeypatch.setattr(latex, "method_label", lambda m: m)
    assert not _compiles(to_latex(main_table()), tmp_path)
