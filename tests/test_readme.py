"""Splicing generated results into a Markdown page: the named block only, figures copied beside it."""

import pytest

from o1pruner.report.readme import markers, splice_results


def _readme(tmp_path, *blocks):
    text = "# Title\n"
    for block in blocks:
        begin, end = markers(block)
        text += f"\n{begin}\nold {block}\n{end}\n\nprose after {block}\n"
    path = tmp_path / "README.md"
    path.write_text(text)
    return path


def test_splice_replaces_only_the_named_block_and_copies_figures(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    readme = _readme(tmp_path, None, "thinking_helps")
    (tmp_path / "results/figures").mkdir(parents=True)
    (tmp_path / "results/figures/accuracy.png").write_bytes(b"png")
    summary = tmp_path / "summary.md"
    summary.write_text("| a |\n\n![Accuracy](results/figures/accuracy.png)\n")

    splice_results(str(summary), str(readme), "thinking_helps")
    text = readme.read_text()
    assert "old None" in text and "old thinking_helps" not in text
    assert "![Accuracy](thinking_helps/accuracy.png)" in text
    assert (tmp_path / "thinking_helps/accuracy.png").read_bytes() == b"png"
    assert "prose after thinking_helps" in text

    splice_results(str(summary), str(readme))
    text = readme.read_text()
    # The default block's figures go to a folder named after the page.
    assert "old None" not in text and "![Accuracy](README/accuracy.png)" in text
    assert text.count("| a |") == 2


def test_splice_names_the_missing_block(tmp_path):
    readme = _readme(tmp_path, None)
    summary = tmp_path / "summary.md"
    summary.write_text("x")
    with pytest.raises(ValueError, match="results:other:begin"):
        splice_results(str(summary), str(readme), "other")
