import pytest

from o1pruner.grading import answers_match, extract_boxed, grade


def test_extract_last_box_with_nested_braces():
    assert extract_boxed(r"so \boxed{\frac{1}{2}} and finally \boxed{\frac{3}{4}}") == r"\frac{3}{4}"
    assert extract_boxed(r"\boxed{\frac{1}{2}} then \boxed{2}", which="first") == r"\frac{1}{2}"
    assert extract_boxed("no box here") is None
    assert extract_boxed(r"\boxed{unclosed") is None


@pytest.mark.parametrize(
    "gold,pred,ok",
    [
        ("7", "7", True),
        ("7", "8", False),
        (r"\frac{1}{2}", "0.5", True),
        (r"\frac{1}{2}", "1/2", True),
        ("2", "2.0", True),
        ("12", "1 2", True),
    ],
)
def test_answers_match(gold, pred, ok):
    assert answers_match(gold, pred) is ok


def test_grade_records_unparseable():
    g = grade("I think it is 5", "5")
    assert g.unparseable and not g.correct and g.extracted_answer is None
    g = grade(r"The answer is \boxed{5}.", "5")
    assert g.correct and not g.unparseable and g.extracted_answer == "5"


def test_grading_works_outside_the_main_thread():
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda p: answers_match(*p), [(r"\frac{1}{3}", "2/6"), ("3", "4")]))
    assert results == [True, False]
