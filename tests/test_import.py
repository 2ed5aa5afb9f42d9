"""Pre-samples from another tool's file (`sampling.import`): the smoke run's own pre-samples
written out in each supported format, read back through `o1pruner import-samples` and through
the workflow, against the samples and training sets the run made itself; bad files refused with
one line naming the file, row and field."""

import json
import random
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from helpers import snakemake_cmd
from test_workflow import planned_jobs

from o1pruner.cli import main
from o1pruner.models import load_tokenizer

REPO = Path(__file__).resolve().parents[1]
MODEL = "toy-qwen2-smoke"
SAMPLES = f"results/samples/{MODEL}/toy/samples.parquet"
PROBLEMS = f"results/data/toy/{MODEL}/train.jsonl"
REFERENCE = f"results/models/{MODEL}/reference"


def _problems(root):
    return [json.loads(line) for line in (root / PROBLEMS).read_text().splitlines()]


def write_formats(samples: pd.DataFrame, problems: list[dict], folder) -> dict[str, tuple[str, bool]]:
    """The samples as each tool writes them: {name: (format, carries token ids)}; files in `folder`."""
    text = {p["id"]: p["problem"] for p in problems}
    rows = samples.sort_values(["problem_id", "sample_idx"])
    groups = [(pid, g) for pid, g in rows.groupby("problem_id", sort=False)]
    random.Random(0).shuffle(groups)  # files need not follow the training set's order
    with open(folder / "vllm_ids.jsonl", "w") as f:  # a vLLM script: one line per response, ids kept
        for r in rows.itertuples():
            reason = "length" if r.truncated else "stop"
            line = {"problem_id": r.problem_id, "response": r.response, "token_ids": [int(i) for i in r.response_ids]}
            f.write(json.dumps({**line, "finish_reason": reason}) + "\n")
    with open(folder / "vllm_text.jsonl", "w") as f:  # one line per problem, text only, matched by text
        for pid, g in groups:
            f.write(
                json.dumps({"problem": "  " + text[pid].replace(" ", "\n", 1), "responses": list(g["response"])}) + "\n"
            )
    with open(folder / "lm_eval.jsonl", "w") as f:  # lm-eval --log_samples with repeats: K
        for doc_id, (pid, g) in enumerate(groups):
            doc = {"problem": text[pid], "answer": g["gold"].iloc[0]}
            record = {"doc_id": doc_id, "doc": doc, "target": doc["answer"], "arguments": [["<prompt>", {}]]}
            f.write(json.dumps({**record, "resps": [list(g["response"])], "filtered_resps": [["x"]]}) + "\n")
    with open(folder / "evalscope.jsonl", "w") as f:  # evalscope's ReviewResult.model_dump(), repeats: K
        lines = [(text[pid], r.gold, r.response) for pid, g in groups for r in g.itertuples()]
        for index, (problem, gold, response) in enumerate(lines):
            f.write(json.dumps(evalscope_review(index, problem, gold, response)) + "\n")
    items = [  # O1-Pruner's inference.py: each item K times, the response as `solution`
        {"problem": text[pid], "ground_truth_answer": r.gold, "solution": r.response, "answer": r.extracted_answer}
        for pid, g in groups
        for r in g.itertuples()
    ]
    (folder / "o1_pruner.json").write_text(json.dumps(items))
    return {
        "vllm_ids.jsonl": ("jsonl", True),
        "vllm_text.jsonl": ("jsonl", False),
        "lm_eval.jsonl": ("lm_eval", False),
        "evalscope.jsonl": ("evalscope", False),
        "o1_pruner.json": ("o1_pruner", False),
    }


def evalscope_review(index: int, problem: str, gold: str, response: str) -> dict:
    """One line of an evalscope review file as evalscope 1.14 writes it (tests/data/tool_outputs
    has one from a run): the chat in `messages`, the user message MATH-500's template around the
    problem, then the model's reply."""
    prompt = f"{problem}\nPlease reason step by step, and put your final answer within \\boxed{{}}."
    user = {"id": f"u{index}", "content": prompt, "source": None, "metadata": None, "role": "user"}
    reply = {"id": f"a{index}", "content": response, "source": "generate", "metadata": None, "role": "assistant"}
    score = {"value": {"acc": 0.0}, "extracted_prediction": "", "prediction": response, "explanation": None}
    sample_score = {"score": {**score, "metadata": {}, "main_score_name": "acc"}, "sample_id": index, "group_id": 0}
    return {
        "index": index,
        "target": [gold],
        "messages": [user, reply],
        "sample_score": {**sample_score, "sample_metadata": {}},
    }


def _import(root, responses, fmt, out, k=None):
    settings = json.loads(pq.read_schema(root / SAMPLES).metadata[b"o1pruner"])["settings"]  # as presample had them
    settings = json.dumps({**settings, **({} if k is None else {"k": k})})
    argv = ["import-samples", "--model", str(root / REFERENCE), "--problems", str(root / PROBLEMS)]
    return main([*argv, "--responses", str(responses), "--format", fmt, "--settings", settings, "--out", str(out)])


def _comparable(df):
    return df.assign(response_ids=df["response_ids"].map(list)).reset_index(drop=True)


def test_each_format_gives_the_samples_back(smoke, tmp_path, caplog):
    original = _comparable(pd.read_parquet(smoke / SAMPLES))
    tok = load_tokenizer(str(smoke / REFERENCE))
    retokenised = original.apply(
        lambda r: tok.encode(r.response, add_special_tokens=False) + ([] if r.truncated else [tok.eos_token_id]), axis=1
    )
    same_ids = retokenised.map(list) == original["response_ids"]
    # Text gives back the generated ids except where the model wrote bytes that are not UTF-8
    # (U+FFFD in the text: the import warns) or a special token inside the response (decoding
    # drops it); the random smoke model writes a few of the first.
    undecodable = original["response"].str.contains("\ufffd")
    assert 0 < (~same_ids).sum() < 0.1 * len(original)  # both kinds of row are there
    assert undecodable.any() and not (same_ids & undecodable).any()
    cap = yaml.safe_load((smoke / "config.yaml").read_text())["sampling"]["max_new_tokens"]
    for name, (fmt, with_ids) in write_formats(original, _problems(smoke), tmp_path).items():
        caplog.clear()
        assert _import(smoke, tmp_path / name, fmt, tmp_path / f"{name}.parquet") == 0, name
        imported = _comparable(pd.read_parquet(tmp_path / f"{name}.parquet"))
        warned = [r.getMessage() for r in caplog.records if "U+FFFD" in r.getMessage()]
        if with_ids:
            pd.testing.assert_frame_equal(imported, original)
            assert not warned, name
            continue
        # One warning line, naming the file and how many responses lost bytes.
        assert len(warned) == 1 and warned[0].startswith(f"{tmp_path / name}: {undecodable.sum()} response(s)"), warned
        pd.testing.assert_frame_equal(imported[same_ids], original[same_ids], obj=name)
        assert (imported.loc[~same_ids, "response"] == original.loc[~same_ids, "response"]).all()
        # The rest: the text re-tokenised, ended by the end-of-turn id unless it reaches the cap.
        text_ids = imported.loc[~same_ids, "response"].map(lambda t: tok.encode(t, add_special_tokens=False))
        ended = text_ids.map(lambda ids: ids + ([tok.eos_token_id] if len(ids) < cap else []))
        assert (imported.loc[~same_ids, "response_ids"] == ended).all()


def test_the_workflow_trains_on_imported_samples_as_on_its_own(smoke, tmp_path):
    root = tmp_path / "smoke"
    shutil.copytree(smoke, root, symlinks=True, ignore=shutil.ignore_patterns("locks"))
    write_formats(pd.read_parquet(smoke / SAMPLES), _problems(smoke), root)
    cfg = yaml.safe_load((root / "config.yaml").read_text())
    cfg["sampling"]["import"] = {"path": "vllm_ids.jsonl", "format": "jsonl"}
    (root / "import.yaml").write_text(yaml.safe_dump(cfg))
    trainsets = [f"results/trainset/{MODEL}/toy/{name}.parquet" for name in ("o1_pruner", "sft", "dpo")]

    def run(*args):
        command = snakemake_cmd(root, root / "import.yaml", "--cores", "2", *args)
        done = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=root)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return done

    assert not {"presample", "presample_shard"} & set(planned_jobs(run("-n", *trainsets)))
    done = run(*trainsets)
    log = done.stdout + done.stderr
    assert "rule import_samples" in log and "rule presample_shard" not in log and "rule toy_reference" not in log
    for path in trainsets:
        pd.testing.assert_frame_equal(_comparable_trainset(root / path), _comparable_trainset(smoke / path), obj=path)
    imported = json.loads(pq.read_schema(root / SAMPLES).metadata[b"o1pruner"])["imported"]
    assert imported["path"] == "vllm_ids.jsonl" and len(imported["sha256"]) == 64
    # A changed file reruns what depends on it, from the import on; nothing before it (a file
    # rewritten unchanged reruns nothing: Snakemake compares its checksum).
    lines = (root / "vllm_ids.jsonl").read_text().splitlines(keepends=True)
    (root / "vllm_ids.jsonl").write_text("".join(lines))
    assert planned_jobs(run("-n", *trainsets)) == {}
    first = json.loads(lines[0])
    lines[0] = json.dumps({**first, "response": first["response"] + " "}) + "\n"
    (root / "vllm_ids.jsonl").write_text("".join(lines))
    planned = planned_jobs(run("-n", *trainsets))
    assert planned["import_samples"] == 1 and not {"toy_data", "toy_reference"} & set(planned), planned


def _comparable_trainset(path):
    df = pd.read_parquet(path)
    return df.assign(**{c: df[c].map(lambda v: list(v) if v is not None else v) for c in df if c.endswith("_ids")})


def _lines(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.mark.parametrize(
    "records, fmt, k, message",
    [
        ([{"problem_id": "nope", "response": "x"}], "jsonl", 1, "line 1: id 'nope' matches no problem"),
        ([{"problem_id": "toy-train-000000"}], "jsonl", 1, "line 1: missing field response"),
        ([{"response": "x"}], "jsonl", 1, "line 1: missing field problem_id or id or problem or question"),
        ([{"doc": {"problem": "2+2?"}, "resps": [["4"]]}], "lm_eval", 1, "line 1: problem '2+2?' matches no problem"),
        ([{"doc_id": 0, "resps": [["4"]]}], "lm_eval", 1, "line 1: missing field doc"),
        ([{"index": 0, "input": "2+2?"}], "evalscope", 1, "line 1: missing field sample_score.score"),
        ([evalscope_review(0, "2+2?", "4", "4")], "evalscope", 1, "line 1: problem '2+2?\\nPlease reason"),
        ([{**evalscope_review(0, "2+2?", "4", "4"), "messages": []}], "evalscope", 1, "line 1: missing field messages"),
        (
            [{"problem_id": "toy-train-000000", "responses": ["a", "b"]}],
            "jsonl",
            3,
            "toy-train-000000 has 2 response(s)",
        ),
    ],
)
def test_bad_files_are_refused_with_one_line(smoke, tmp_path, capsys, records, fmt, k, message):
    path = _lines(tmp_path / "responses.jsonl", records)
    if "has 2 response(s)" in message:  # every other problem answered k times: only this one is short
        others = [p["id"] for p in _problems(smoke)[1:]]
        path = _lines(path, records + [{"problem_id": pid, "responses": ["a"] * k} for pid in others])
    assert _import(smoke, path, fmt, tmp_path / "out.parquet", k=k) != 0
    err = capsys.readouterr().err.strip()
    assert message in err and str(path) in err, err
    assert len(err.splitlines()) == 1 and not (tmp_path / "out.parquet").exists()


@pytest.mark.parametrize(
    "setting, message",
    [
        ({"path": "vllm_ids.jsonl", "format": "csv"}, "sampling.import.format"),
        ({"path": "missing.jsonl", "format": "jsonl"}, "config key sampling.import.path: missing.jsonl does not exist"),
    ],
)
def test_a_bad_import_setting_stops_the_workflow_before_any_job(smoke, tmp_path, setting, message):
    cfg = yaml.safe_load((smoke / "config.yaml").read_text())
    cfg["sampling"]["import"] = setting
    (tmp_path / "import.yaml").write_text(yaml.safe_dump(cfg))
    (tmp_path / "vllm_ids.jsonl").write_text("")
    command = snakemake_cmd(smoke, tmp_path / "import.yaml", "-n")
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=smoke)
    assert done.returncode != 0 and message in done.stderr, done.stderr[-2000:]
    assert "Job stats" not in done.stdout + done.stderr and "Traceback" not in done.stderr


REALTEXT = REPO / ".." / "shared" / "realtext" / "deepscaler-1.5b-aime24"
TOKENIZER = REPO / ".." / "shared" / "tokenizers" / "deepseek-r1-distill-qwen-1.5b"


def _prepared_aime24(folder: Path) -> Path:
    problems = folder / "aime24.jsonl"
    source = REPO / "../shared/data/aime24/test.jsonl"
    assert main(["prepare", "aime24", "--source", str(source), "--out", str(problems)]) == 0
    return problems


def as_other_tool_wrote_it(records: list[dict], fmt: str, path: Path) -> Path:
    """AIME-Preview's records (`question`, `generated_responses`) as lm-eval's `aime24` task logs
    them (its document's `Problem`, its prompt) or as an evalscope review (the prompt around it)."""
    if fmt == "lm_eval":
        lines = []
        for n, r in enumerate(records):
            doc = {"ID": f"2024-{n}", "Problem": r["question"], "Answer": r["gold_answer"]}
            prompt = f"Solve the following AIME problem.\n\n{r['question']}\n\nAnswer:"
            arguments = {"gen_args_0": {"arg_0": prompt, "arg_1": {"until": ["</s>"], "do_sample": False}}}
            lines.append({"doc_id": n, "doc": doc, "target": doc["Answer"], "arguments": arguments})
            lines[-1] |= {"resps": [r["generated_responses"]], "filtered_resps": r["generated_answers"]}
        return _lines(path, lines)
    reviews = [
        evalscope_review(n, r["question"], r["gold_answer"], t)
        for n, r in enumerate(records)
        for t in r["generated_responses"]
    ]
    return _lines(path, reviews)


@pytest.mark.skipif(not REALTEXT.is_dir(), reason="needs ../shared/realtext (real model text, not in the repository)")
@pytest.mark.parametrize("fmt", ["jsonl", "lm_eval", "evalscope"])
@pytest.mark.parametrize("cap, correct, closed, cut_off, unclosed_ended", [(8192, 9, 16, 14, 1), (4096, 7, 9, 26, 0)])
def test_real_long_thought_responses_are_graded_as_their_authors_graded_them(
    tmp_path, fmt, cap, correct, closed, cut_off, unclosed_ended
):
    """DeepScaleR-1.5B-Preview on AIME 2024 (one response per problem at two token caps), imported
    as a run evaluated elsewhere: the workflow's grader against the authors' flags, and the
    thinking split and cut-off counts on real text with the real tokenizer. The same responses in
    lm-eval's and evalscope's records are matched by the problem's text and graded alike."""
    from o1pruner import job_settings
    from o1pruner.config.load import load_config

    problems = _prepared_aime24(tmp_path)
    responses = next(REALTEXT.glob(f"{cap}t_*.jsonl"))
    records = [json.loads(line) for line in responses.read_text().splitlines()]
    authors = {r["question"]: r["is_correct"] for r in records}
    if fmt != "jsonl":
        responses = as_other_tool_wrote_it(records, fmt, tmp_path / f"{fmt}.jsonl")
    config = load_config(REPO / "config" / "r1_distill_qwen.yaml")
    settings = {**job_settings.evaluation_settings(config, "reference", "aime24"), "max_new_tokens": cap}
    out, metrics = tmp_path / "run.parquet", tmp_path / "run.json"
    argv = ["import-eval", "--model", str(TOKENIZER), "--problems", str(problems), "--responses", str(responses)]
    argv += ["--format", fmt, "--settings", json.dumps(settings), "--run", "deepscaler"]
    assert main([*argv, "--out", str(out), "--metrics", str(metrics)]) == 0
    graded = pd.read_parquet(out)
    text = {str(p["id"]): p["problem"] for p in map(json.loads, problems.read_text().splitlines())}
    assert len(graded) == 30 and (graded["correct"] == graded["problem_id"].map(text).map(authors)).all()
    assert graded["correct"].sum() == correct and graded["thinking_closed"].sum() == closed
    # Text without a finish reason: cut off when its ids reach the cap. A response that never
    # closed its thinking ran into the cap, but re-tokenised it can fall short of it (8,190 ids
    # here): one of 14 at 8,192 tokens reads as ended.
    assert graded["truncated"].sum() == cut_off
    assert (~graded["thinking_closed"] & ~graded["truncated"]).sum() == unclosed_ended
    assert (graded["thinking_tokens"] + graded["answer_tokens"] == graded["n_tokens"]).all()
    summary = json.loads(metrics.read_text())
    assert summary["accuracy"] == pytest.approx(100 * correct / 30) and summary["imported"]["format"] == fmt


@pytest.mark.skipif(not REALTEXT.is_dir(), reason="needs ../shared/realtext (real model text, not in the repository)")
def test_answers_logged_without_their_thinking_are_named_before_they_are_graded_wrong(tmp_path, caplog):
    """A server with a reasoning parser logs the answer apart from the thinking; under a thinking
    config each such response reads as unfinished thinking. The import says so in the log."""
    from o1pruner import job_settings
    from o1pruner.config.load import load_config

    problems = _prepared_aime24(tmp_path)
    records = [json.loads(line) for line in next(REALTEXT.glob("8192t_*.jsonl")).read_text().splitlines()]
    answers = [{"id": r["id"], "response": r["generated_responses"][0].split("</think>")[-1]} for r in records]
    config = load_config(REPO / "config" / "r1_distill_qwen.yaml")
    settings = {**job_settings.evaluation_settings(config, "reference", "aime24"), "max_new_tokens": 8192}
    argv = ["import-eval", "--model", str(TOKENIZER), "--problems", str(problems), "--format", "jsonl"]
    argv += ["--responses", str(_lines(tmp_path / "answers.jsonl", answers)), "--settings", json.dumps(settings)]
    with caplog.at_level("WARNING"):
        outputs = ["--out", str(tmp_path / "r.parquet"), "--metrics", str(tmp_path / "r.json")]
        assert main([*argv, "--run", "parsed", *outputs]) == 0
    assert "no response holds the thinking marker '</think>'" in caplog.text
    assert pd.read_parquet(tmp_path / "r.parquet")["correct"].sum() == 0


def test_n_responses_per_problem_give_avg_at_n_and_pass_at_k_as_the_workflows_own(smoke, tmp_path):
    """The smoke reference's sampled evaluation (n = 2 per problem), imported: the same avg@n and
    pass@k as the workflow computed for it (grading reads the text, so re-tokenising changes none)."""
    from o1pruner import job_settings
    from o1pruner.config.load import load_config

    rows = pd.read_parquet(smoke / f"results/eval/{MODEL}/toy/reference.sampled.parquet")
    with open(tmp_path / "sampled.jsonl", "w") as f:
        for pid, g in rows.groupby("problem_id", sort=False):
            f.write(json.dumps({"id": pid, "responses": list(g["response"])}) + "\n")
    config = load_config(smoke / "config.yaml")
    settings = job_settings.imported_evaluation_settings(config, "toy")  # as rule import_evaluation has them
    argv = [
        "import-eval",
        "--model",
        str(smoke / REFERENCE),
        "--problems",
        str(smoke / f"results/data/toy/{MODEL}/test.jsonl"),
    ]
    argv += ["--responses", str(tmp_path / "sampled.jsonl"), "--format", "jsonl", "--settings", json.dumps(settings)]
    assert (
        main([*argv, "--run", "elsewhere", "--out", str(tmp_path / "e.parquet"), "--metrics", str(tmp_path / "e.json")])
        == 0
    )
    theirs = json.loads((tmp_path / "e.json").read_text())
    ours = json.loads((smoke / f"results/eval/{MODEL}/toy/reference.sampled.json").read_text())
    assert theirs["settings"]["num_samples"] == 2 and theirs["accuracy"] == ours["accuracy"]
    for key in ("accuracy", "pass@1", "pass@2"):
        assert theirs["sampled"][key] == pytest.approx(ours["sampled"][key]), key


def test_a_run_evaluated_elsewhere_is_reported_beside_the_workflows_own(smoke, tmp_path):
    """The smoke reference's greedy responses, imported as run `elsewhere`: in every main table
    beside the reference, graded alike, with its AES against the reference."""
    root = tmp_path / "smoke"
    shutil.copytree(smoke, root, symlinks=True, ignore=shutil.ignore_patterns("locks"))
    greedy = pd.read_parquet(root / f"results/eval/{MODEL}/toy/reference.parquet")
    with open(root / "elsewhere.jsonl", "w") as f:
        for r in greedy.itertuples():
            f.write(json.dumps({"id": r.problem_id, "response": r.response}) + "\n")
    cfg = yaml.safe_load((root / "config.yaml").read_text())
    cfg["evaluation"]["import"] = {"elsewhere": {"toy": {"path": "elsewhere.jsonl", "format": "jsonl"}}}
    (root / "import.yaml").write_text(yaml.safe_dump(cfg))
    command = snakemake_cmd(root, root / "import.yaml", "--cores", "2")
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=root)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    log = done.stdout + done.stderr
    assert "rule import_evaluation" in log and "rule evaluate:" not in log and "rule finetune" not in log
    main_table = pd.read_csv(root / f"results/tables/{MODEL}/main_results.csv").set_index("method")
    ours, theirs = main_table.loc["reference"], main_table.loc["elsewhere"]
    assert theirs["accuracy"] == ours["accuracy"] and theirs["n_problems"] == ours["n_problems"]
    assert abs(theirs["mean_tokens"] - ours["mean_tokens"]) / ours["mean_tokens"] < 0.05  # re-tokenised text
    assert pd.notna(theirs["aes"])


def test_a_prompt_around_a_problem_is_matched_to_the_longest_problem_it_holds():
    """evalscope's reviews hold the prompt, not the problem: the problem is the longest text of
    the set inside it, so a problem that is the tail of another's text does not take its answers."""
    from o1pruner.sampling.imported import ImportedResponse, match_to_problems

    problems = [{"id": "short", "problem": "Find  x."}, {"id": "long", "problem": "Let y = 2.\nFind x."}]
    prompts = ["Let y = 2. Find x.\nPlease reason step by step.", "Find x.\nPlease reason step by step."]
    responses = [
        ImportedResponse(f"f, line {n}", None, p, f"r{n}", problem_in_prompt=True) for n, p in enumerate(prompts)
    ]
    short, long = match_to_problems(responses, problems, "f", per_problem=1)
    assert (short[0].text, long[0].text) == ("r1", "r0")
