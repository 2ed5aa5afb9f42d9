"""The real test sets in ../shared/data through the loaders (skipped where that folder is absent)."""

import json
from pathlib import Path

import pytest

from o1pruner.datasets import normalise, prepare, read_source, subset
from o1pruner.grading import symbolic_match
from o1pruner.io import InputError

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FILES = {
    ("gsm8k", "gsm8k/test.jsonl"): 1319,
    ("gsm8k", "gsm8k/train.jsonl"): 7473,
    ("math500", "math500/test.jsonl"): 500,
    ("gaokao", "gaokao2023en/test.jsonl"): 385,
    ("aime24", "aime24/test.jsonl"): 30,
    ("amc23", "amc23/test.jsonl"): 40,
    ("aime25", "aime25/test.jsonl"): 30,
    ("olympiadbench", "olympiadbench/test.jsonl"): 675,
    ("math", "math/test.jsonl"): 5000,
}
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"{DATA} (the shared real data sets) is absent")


@needs_data
@pytest.mark.parametrize("name,rel", list(FILES))
def test_counts_and_fields(name, rel):
    rows = normalise(name, read_source(str(DATA / rel)))
    assert len(rows) == FILES[(name, rel)]
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert r["problem"].strip() and r["answer"].strip() and r["dataset"] == name
        assert "####" not in r["answer"] and not r["answer"].startswith("$")


@needs_data
@pytest.mark.parametrize("name,rel", list(FILES))
def test_gold_answers_verify_against_themselves(name, rel):
    rows = normalise(name, read_source(str(DATA / rel)))
    failures = [(r["id"], r["answer"]) for r in rows if not symbolic_match(r["answer"], r["answer"])]
    rate = 1 - len(failures) / len(rows)
    assert rate >= 0.99, f"{name}: {len(failures)} golds do not verify against themselves: {failures}"


@needs_data
def test_known_formats():
    gsm = {r["problem"][:20]: r["answer"] for r in normalise("gsm8k", read_source(str(DATA / "gsm8k/test.jsonl")))}
    assert gsm["Janet’s ducks lay 16"] == "18"
    amc = normalise("amc23", read_source(str(DATA / "amc23/test.jsonl")))
    assert amc[0]["answer"] == "27"
    aime = normalise("aime24", read_source(str(DATA / "aime24/test.jsonl")))
    assert "025" in {r["answer"] for r in aime}
    math = normalise("math500", read_source(str(DATA / "math500/test.jsonl")))
    assert math[0]["level"] == 2 and math[0]["subject"] == "Precalculus" and math[0]["id"].startswith("test/")
    gaokao = normalise("gaokao", read_source(str(DATA / "gaokao2023en/test.jsonl")))
    assert gaokao[0]["answer"] == "\\{x|-2\\leq x < 1\\}"
    saddle = next(r for r in gaokao if "saddle point" in r["problem"])
    assert saddle["answer"] == "\\frac{3}{10}" and "answers:" not in saddle["problem"]


@needs_data
def test_the_newer_sets_in_their_published_formats():
    """AIME 2025 (answers as strings), the full MATH test split (gold = last boxed answer of the
    solution, "Level 3" -> 3) and OlympiadBench (a list of LaTeX final answers with units,
    tuples, intervals and multiple answers)."""
    aime = normalise("aime25", read_source(str(DATA / "aime25/test.jsonl")))
    assert aime[0]["answer"] == "70" and aime[0]["id"] == "aime25-00000"
    math = normalise("math", read_source(str(DATA / "math/test.jsonl")))
    assert math[0]["answer"] == "2" and math[0]["level"] == 3 and math[0]["subject"] == "Algebra"
    assert {r["level"] for r in math} == {1, 2, 3, 4, 5}
    math500 = {r["problem"] for r in normalise("math500", read_source(str(DATA / "math500/test.jsonl")))}
    assert len(math500 & {r["problem"] for r in math}) >= 490  # MATH-500 is a subset of the full test split
    ob = {r["id"]: r for r in normalise("olympiadbench", read_source(str(DATA / "olympiadbench/test.jsonl")))}
    assert ob["1606"]["answer"] == "2" and ob["1606"]["answer_type"] == "Numerical"
    by_type = {}
    for r in ob.values():
        by_type.setdefault(r["answer_type"], []).append(r["answer"])
    assert set(by_type) == {"Numerical", "Expression", "Tuple", "Interval"}
    assert "(2,4)" in by_type["Tuple"] and "[\\frac{1}{2}, 8]" in by_type["Interval"]
    assert "(0,4]" in by_type["Interval"]  # published as "$t(0,4]$": the variable is not part of the interval
    assert not any("$" in a or a.endswith(".") for a in sum(by_type.values(), []))
    units = {r["answer"]: r["unit"] for r in ob.values() if "unit" in r}
    assert units["\\frac{600}{7}"] == "km/h" and len(units) == 8  # the unit is not part of the gold
    assert "69, 84" in by_type["Numerical"]  # a multiple answer: "$69$,$84$" as published


def test_olympiadbench_golds_grade_as_expected():
    """What the grader does with OlympiadBench's answer types: a tuple or interval matches only
    itself (not a neighbour), a multiple answer needs all its parts."""
    from o1pruner.grading import answers_match

    assert answers_match("(2,4)", "(2, 4)") and not answers_match("(2,4)", "(4,2)")
    assert not answers_match("(-\\infty,-5)", "(-\\infty,-5]")
    assert answers_match("69, 84", "84, 69") and not answers_match("69, 84", "69")
    assert answers_match("\\frac{600}{7}", "\\frac{600}{7}")


def test_gsm8k_thousands_separator_and_math_boxed_fallback():
    rows = normalise("gsm8k", [("x, line 1", {"question": "q", "answer": "work\n#### 1,234"})])
    assert rows[0]["answer"] == "1234"
    rows = normalise(
        "math",
        [
            (
                "x, line 1",
                {"problem": "p", "solution": "so \\boxed{\\frac{1}{2}}.", "level": "Level 4", "type": "Algebra"},
            )
        ],
    )
    assert rows[0]["answer"] == "\\frac{1}{2}" and rows[0]["level"] == 4 and rows[0]["subject"] == "Algebra"


def test_bad_rows_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q", "answer": "#### 3"}\n{"question": "no answer"}\n')
    with pytest.raises(InputError, match=r"bad.jsonl, line 2: no gold answer"):
        prepare("gsm8k", str(bad), "test", str(tmp_path / "out.jsonl"))
    bad.write_text('{"question": "q", "answer": "#### 3"}\n{"question": \n')
    with pytest.raises(InputError, match=r"bad.jsonl, line 2: not valid JSON"):
        prepare("gsm8k", str(bad), "test", str(tmp_path / "out.jsonl"))
    bad.write_text('{"answer": "#### 3"}\n')
    with pytest.raises(InputError, match=r"line 1: missing field 'question'"):
        prepare("gsm8k", str(bad), "test", str(tmp_path / "out.jsonl"))
    with pytest.raises(InputError, match="unknown dataset 'mathqa'"):
        prepare("mathqa", str(bad), "test", str(tmp_path / "out.jsonl"))
    assert not (tmp_path / "out.jsonl").exists()


def test_json_list_and_parquet_sources(tmp_path):
    import pandas as pd

    rows = [{"problem": f"p{i}", "answer": str(i)} for i in range(5)]
    (tmp_path / "a.json").write_text(json.dumps(rows))
    pd.DataFrame(rows).to_parquet(tmp_path / "a.parquet")
    assert normalise("math500", read_source(str(tmp_path / "a.json"))) == normalise(
        "math500", read_source(str(tmp_path / "a.parquet"))
    )


def test_subset_is_seeded_and_recorded(tmp_path):
    rows = [{"problem": f"p{i}", "answer": str(i), "id": f"id{i}"} for i in range(50)]
    src = tmp_path / "s.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows))
    a = prepare("math500", str(src), "train", str(tmp_path / "a.jsonl"), n=10, seed=3)
    b = subset(normalise("math500", read_source(str(src))), 10, 3)
    assert [r["id"] for r in a] == [r["id"] for r in b] and len(a) == 10
    selection = json.loads((tmp_path / "a.jsonl.selection.json").read_text())
    assert selection["ids"] == [r["id"] for r in a] and selection["seed"] == 3
    c = subset(normalise("math500", read_source(str(src))), 10, 4)
    assert [r["id"] for r in c] != [r["id"] for r in a]


def test_asking_for_more_problems_than_the_file_has_is_an_error(tmp_path):
    src = tmp_path / "two.jsonl"
    src.write_text("".join(json.dumps({"problem": f"p{i}", "answer": "1", "id": f"i{i}"}) + "\n" for i in range(2)))
    with pytest.raises(InputError, match=r"two.jsonl: -n 10 asks for more problems than it has \(2\)"):
        prepare("math500", str(src), "test", str(tmp_path / "out.jsonl"), n=10)
    assert not (tmp_path / "out.jsonl").exists()
    assert len(prepare("math500", str(src), "test", str(tmp_path / "out.jsonl"), n=2)) == 2


def test_empty_dataset_file_is_an_error_and_writes_nothing(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(InputError, match="empty.jsonl: no rows"):
        prepare("gsm8k", str(empty), "test", str(tmp_path / "out.jsonl"))
    assert not (tmp_path / "out.jsonl").exists()
