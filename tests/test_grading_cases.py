"""Grading on real answer formats: equivalent pairs must match, different ones must not."""

import pytest

from o1pruner.grading import answers_match, choice_letter, grade

EQUIVALENT = [
    ("\\frac{1}{2}", "0.5"),
    ("\\frac{1}{2}", "1/2"),
    ("\\frac{3}{4}", "\\dfrac{3}{4}"),
    ("\\frac{14}{3}", "4\\frac{2}{3}"),
    ("0.15", "\\frac{3}{20}"),
    ("1.25", "\\frac54"),
    ("2220", "2,220"),
    ("13535", "13,535"),
    ("90^\\circ", "90"),
    ("90^\\circ", "90^{\\circ}"),
    ("\\text{Evelyn}", "Evelyn"),
    ("[2,+\\infty)", "[2, \\infty)"),
    ("(-\\infty,-3)", "(-\\infty, -3)"),
    ("\\{2,3,5\\}", "\\{5,3,2\\}"),
    ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3, \\pi/2)"),
    ("6 - 5i", "-5i + 6"),
    ("11\\sqrt2", "11\\sqrt{2}"),
    ("3\\sqrt{13}", "\\sqrt{117}"),
    ("x=5", "5"),
    ("p - q", "-q + p"),
    ("x^5 - x^4 + x^3 - x^2 + x - 1", "x^5-x^4+x^3-x^2+x-1"),
    ("\\pi", "\\pi"),
    ("-\\frac{\\pi}{6}", "-\\pi/6"),
    ("27", "27.0"),
    ("025", "25"),
    ("\\frac{\\sqrt{17}}{17}", "\\frac{1}{\\sqrt{17}}"),
    ("1-i", "1 - i"),
    ("A", "A"),
    ("A", "(A)"),
    ("B", "\\text{(B)}"),
]

DIFFERENT = [
    ("\\frac{1}{2}", "0.6"),
    ("\\frac{1}{2}", "2"),
    ("2220", "2200"),
    ("90^\\circ", "45^\\circ"),
    ("[2,+\\infty)", "(2,+\\infty)"),
    ("\\{2,3,5\\}", "\\{2,3\\}"),
    ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3, \\pi)"),
    ("6 - 5i", "6 + 5i"),
    ("3\\sqrt{13}", "13\\sqrt{3}"),
    ("x^5 - x^4 + x^3 - x^2 + x - 1", "x^5 + x^4"),
    ("A", "B"),
    ("A", "(C)"),
    ("27", "72"),
    ("\\text{Evelyn}", "Bob"),
    ("-\\frac{\\pi}{6}", "\\frac{\\pi}{6}"),
]


@pytest.mark.parametrize("gold,pred", EQUIVALENT)
def test_equivalent_answers_match(gold, pred):
    assert answers_match(gold, pred), (gold, pred)


@pytest.mark.parametrize("gold,pred", DIFFERENT)
def test_different_answers_do_not_match(gold, pred):
    assert not answers_match(gold, pred), (gold, pred)


def test_boxes_in_responses():
    assert grade("Thus $x = \\boxed{\\frac{1}{2}}$.", "0.5").correct
    assert grade("\\boxed{3} is wrong; the answer is \\boxed{\\frac{\\sqrt{2}}{2}}", "\\frac{1}{\\sqrt2}").correct
    assert not grade("\\boxed{3} is wrong; the answer is \\boxed{4}", "3").correct
    assert grade("\\boxed{3} is wrong; the answer is \\boxed{4}", "3", which="first").correct
    g = grade("The answer is 42.", "42")
    assert g.unparseable and not g.correct
    assert grade("\\boxed{\\text{(C)}}", "C").correct


def test_choice_letter():
    assert choice_letter("(D)") == "D" and choice_letter("\\text{A}") == "A" and choice_letter("AB") is None


def test_grading_in_worker_processes_gives_the_same_grades_in_order():
    """`grade_many` with 2 worker processes, forked or from a fork server (beside a vLLM engine),
    against grading in this process, order included."""
    from o1pruner.grading import grade, grade_many

    golds = [str(i) for i in range(100)]
    responses = [f"so \\boxed{{{i if i % 3 else i + 1}}}" for i in range(100)]
    expected = [grade(r, g) for r, g in zip(responses, golds)]
    assert grade_many(responses, golds, workers=2) == expected
    assert grade_many(responses, golds, workers=2, start_method="forkserver") == expected
    assert sum(g.correct for g in expected) == 66
