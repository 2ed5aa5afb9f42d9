"""Files that other tools wrote in real runs, read as pre-samples (`o1pruner import-samples`):
lm-evaluation-harness's `--log_samples` file, evalscope's review files and the released
O1-Pruner inference script's output, all from the R1 config's rehearsal model on its 16
training problems (MATH; made by tests/data/tool_outputs/make.sh; its README says how). Each
response is matched to its problem, kept in the tool's order, re-tokenised with the real
DeepSeek-R1-Distill-Qwen tokenizer and graded; the grades are checked against each tool's own."""

import json
from pathlib import Path

import pandas as pd
import pytest

from o1pruner import job_settings
from o1pruner.cli import main
from o1pruner.config.load import load_config

REPO = Path(__file__).resolve().parents[1]
TOOL_OUTPUTS = REPO / "tests" / "data" / "tool_outputs"
PROBLEMS = TOOL_OUTPUTS / "math_train_16.jsonl"
TOKENIZER = REPO / ".." / "shared" / "tokenizers" / "deepseek-r1-distill-qwen-1.5b"
K, CAP = 4, 48  # make.sh: four samples per problem, at most 48 new tokens

pytestmark = pytest.mark.skipif(
    not TOKENIZER.is_dir(), reason="needs ../shared/tokenizers (the real tokenizer, not in the repository)"
)


def _imported(tmp_path: Path, responses: Path, fmt: str) -> pd.DataFrame:
    config = load_config(REPO / "config" / "r1_distill_qwen.yaml")
    settings = {**job_settings.presample_settings(config), "k": K, "max_new_tokens": CAP}
    out = tmp_path / f"{fmt}.parquet"
    argv = ["import-samples", "--model", str(TOKENIZER), "--problems", str(PROBLEMS), "--responses", str(responses)]
    assert main([*argv, "--format", fmt, "--settings", json.dumps(settings), "--out", str(out)]) == 0
    samples = pd.read_parquet(out)
    assert len(samples) == 16 * K and (samples.groupby("problem_id")["sample_idx"].nunique() == K).all()
    assert (samples["thinking_tokens"] + samples["answer_tokens"] == samples["n_tokens"]).all()
    assert samples["n_tokens"].max() <= CAP + 2  # re-tokenised text may split a little differently
    return samples


def _problem_ids() -> dict[str, str]:
    return {p["problem"]: p["id"] for p in map(json.loads, PROBLEMS.read_text().splitlines())}


def test_an_lm_eval_log_samples_file_is_graded_as_lm_eval_graded_it(tmp_path):
    """lm-eval 0.4.13 (`--log_samples`, its aime24 task's answer check, 4 repeats per document):
    its `exact_match` grades a document's first response; the workflow agrees on all 16."""
    path = TOOL_OUTPUTS / "lm_eval_samples_math_train_presample.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    samples = _imported(tmp_path, path, "lm_eval").set_index(["problem_id", "sample_idx"])
    ids = _problem_ids()
    ours, theirs = [], []
    for record in records:
        pid = ids[record["doc"]["problem"]]
        assert [samples.loc[(pid, i), "response"] for i in range(K)] == record["resps"][0]
        ours.append(bool(samples.loc[(pid, 0), "correct"]))
        theirs.append(bool(record["exact_match"]))
    assert ours == theirs and sum(theirs) == 4
    assert samples["correct"].sum() == 22  # of 64: the rehearsal model after 200 steps


def test_the_released_o1_pruner_scripts_output_is_graded_as_its_own_grader_graded_it(tmp_path):
    """O1-Pruner's `o1_scripts/inference.py` (each problem K times, in order) and its
    `grader.grade_answer` on each saved answer: the workflow agrees on 63 of 64. The other is a
    garbled list, `\\frac{3}{4}, -\\frac{3}{4}, -\\frac{3}{4}, -\\frac{3000} + \\mathbf{3}{4}`
    against `\\frac{3}{4}, -\\frac{3}{4}`: math-verify parses the part before the malformed
    fraction, the same set as the gold one, where O1-Pruner's string normalisation does not match."""
    path = TOOL_OUTPUTS / "o1_pruner_qwq_math_train_hard_48_normal_K-4.json"
    records = json.loads(path.read_text())
    theirs = json.loads((TOOL_OUTPUTS / "o1_pruner_grades.json").read_text())
    samples = _imported(tmp_path, path, "o1_pruner")
    ids = _problem_ids()
    order = [(ids[r["problem"]], n % K) for n, r in enumerate(records)]
    ordered = samples.set_index(["problem_id", "sample_idx"]).loc[order]
    assert ordered["response"].tolist() == [r["solution"] for r in records]
    differ = [
        (pid, i) for (pid, i), ours, their in zip(order, ordered["correct"], theirs, strict=True) if bool(ours) != their
    ]
    assert sum(theirs) == 5 and ordered["correct"].sum() == 6
    assert [ordered.loc[d, "extracted_answer"] for d in differ] == [
        r"\frac{3}{4}, -\frac{3}{4}, -\frac{3}{4}, -\frac{3000} + \mathbf{3}{4}"
    ]


def test_evalscope_review_files_are_graded_as_evalscope_graded_them(tmp_path):
    """evalscope 1.14.1 (its MATH-500 benchmark on the local problems, 4 repeats; the review files
    of its five level subsets concatenated): each review's prompt is matched to the problem
    evalscope says it asked (`sample_metadata.question_id`), its responses kept in the file's
    order, and the workflow's grade agrees with evalscope's accuracy on 63 of 64. The other is
    `\\frac{0} -\\frac{2} + \\frac{6}{7}` against `\\frac{6}{7}`, which math-verify reads as 6/7
    and evalscope's check does not."""
    path = TOOL_OUTPUTS / "evalscope_reviews_math_500.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    samples = _imported(tmp_path, path, "evalscope").sort_values(["problem_id", "sample_idx"])
    theirs: dict[str, list] = {}
    for r in records:
        score = r["sample_score"]["score"]
        theirs.setdefault(r["sample_score"]["sample_metadata"]["question_id"], []).append(
            (score["prediction"], score["value"]["accuracy"] == 1.0)
        )
    ours = {pid: list(zip(g["response"], g["correct"].astype(bool))) for pid, g in samples.groupby("problem_id")}
    assert ours.keys() == theirs.keys()
    assert all([t for t, _ in ours[pid]] == [t for t, _ in theirs[pid]] for pid in ours)
    differ = [
        answer
        for pid in ours
        for (_, mine), (_, their), answer in zip(
            ours[pid], theirs[pid], samples.loc[samples["problem_id"] == pid, "extracted_answer"]
        )
        if mine != their
    ]
    assert sum(c for v in theirs.values() for _, c in v) == 5 and samples["correct"].sum() == 6
    assert differ == [r"\frac{0} -\frac{2} + \frac{6}{7}"]


def test_an_evalscope_review_from_before_messages_is_read_from_its_input():
    """Older evalscope files kept the prompt in `input`; where a record has `messages`, they count."""
    from o1pruner.sampling.imported import _prompt_text

    chat = [{"role": "user", "content": "Find x.\nPlease reason"}, {"role": "assistant", "content": "x=1"}]
    assert _prompt_text("f", {"messages": chat}) == "Find x.\nPlease reason"
    assert _prompt_text("f", {"input": "Find y."}) == "Find y."
    assert _prompt_text("f", {"input": chat[:1]}) == "Find x.\nPlease reason"
    assert _prompt_text("f", {"messages": chat, "input": "Find y."}) == "Find x.\nPlease reason"
