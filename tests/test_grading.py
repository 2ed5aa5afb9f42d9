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


@pytest.mark.parametrize(
    "response,gold,strict,flexible",
    [
        ("Adding them gives 7.\n**Answer:** 7", "7", False, True),  # unboxed: only the flexible rule reads it
        ("So the final answer is $\\frac{1}{2}$.", "0.5", False, True),
        ("The answer is \\boxed{6}. Or 7", "7", False, False),  # a box decides both rules
        ("I am not sure.", "7", False, False),
    ],
)
def test_the_flexible_rule_reads_an_unboxed_finished_answer(response, gold, strict, flexible):
    g = grade(response, gold, flexible_text=response)
    assert (g.correct, g.correct_flexible) == (strict, flexible)
    assert grade(response, gold).correct_flexible == strict  # no answer text given (truncated): strict only


def test_a_response_cut_off_while_thinking_has_no_answer(tmp_path):
    """With a thinking block, a response that never closes it is wrong under both rules even
    with a right box inside its thinking; a finished unboxed answer is right by the flexible rule
    only; a truncated one by neither."""
    from helpers import SYSTEM
    from test_thinking import _toy_tokenizer

    from o1pruner.sampling.decoding import Generation
    from o1pruner.sampling.run import sample_and_grade
    from o1pruner.toy.tasks import THINK_CLOSE

    _, tok, _ = _toy_tokenizer(tmp_path, thinking=True)
    end = tok.encode(THINK_CLOSE, add_special_tokens=False)
    texts = {
        "p1": ("\\boxed{7} wait", False, []),  # cut off inside the thinking: no answer
        "p2": (f"so 7 {THINK_CLOSE} the final answer is 7", False, end),
        "p3": (f"so 7 {THINK_CLOSE} the final answer is 7", True, end),  # hit the cap
    }

    def generator(prompts, num_samples, max_new_tokens, **_):
        out = []
        for key in ("p1", "p2", "p3"):
            text, truncated, marker = texts[key]
            ids = tok.encode(text.split(THINK_CLOSE)[0], add_special_tokens=False) + marker
            if marker:
                ids += tok.encode(text.split(THINK_CLOSE)[1], add_special_tokens=False)
            out.append([Generation(ids, text, truncated)])
        return out

    problems = [{"id": k, "problem": "Ann has 7 pens.", "answer": "7"} for k in texts]
    df, _ = sample_and_grade(
        generator, tok, problems, num_samples=1, do_sample=False, temperature=1.0, top_p=1.0, max_new_tokens=32,
        batch_size=8, seed=0, system_prompt=SYSTEM, thinking_end=THINK_CLOSE,
    )  # fmt: skip
    got = df.set_index("problem_id")[["correct", "correct_flexible", "thinking_closed"]]
    assert got.loc["p1"].tolist() == [False, False, False]
    assert got.loc["p2"].tolist() == [False, True, True]
    assert got.loc["p3"].tolist() == [False, False, True]


REALTEXT = __import__("pathlib").Path(__file__).resolve().parents[2] / "shared/realtext/deepscaler-1.5b-aime24"


@pytest.mark.parametrize("cap,authors", [(8192, 9), (4096, 7)])
def test_real_responses_grade_as_their_authors_did(cap, authors):
    """DeepScaleR-1.5B on AIME 2024 (../shared/realtext): the strict rule agrees with the authors'
    grader on every response; the flexible rule finds no more (every finished one boxes); none of
    the responses cut off while thinking is credited."""
    import json

    path = REALTEXT / f"{cap}t_test2024_qwen-instruct_t0.6_k1_s0_e30.jsonl"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    rows = [json.loads(line) for line in path.open()]
    strict = flexible = 0
    for r in rows:
        response = r["generated_responses"][0]
        closed = "</think>" in response
        g = grade(response, str(r["gold_answer"]), flexible_text=response.split("</think>", 1)[1] if closed else None)
        assert g.correct == bool(r["is_correct"]), r["id"]
        strict += g.correct and closed
        flexible += g.correct_flexible and closed
    assert strict == flexible == authors
