"""Training sets written for other trainers: the smoke run's own training sets exported by the
workflow's `export_trainset` rule (config export.formats), each read back with its target's loader
where it is installed here (datasets + TRL), LLaMA-Factory's checked field by field against its
data/README.md (not installed here), and bad input refused with one line."""

import json
import shutil
import subprocess

import pandas as pd
import pytest
from helpers import snakemake_cmd

from o1pruner.cli import main

MODEL = "toy-qwen2-smoke"
FORMATS = ("trl", "llamafactory", "parquet")


@pytest.fixture(scope="module")
def exported(smoke, tmp_path_factory):
    # A copy: another config would re-render the smoke run's report, which its other tests expect
    # untouched (test_workflow.py's second run has nothing to do). The exports alone are asked for.
    root = tmp_path_factory.mktemp("export") / "smoke"
    shutil.copytree(smoke, root, symlinks=True, ignore=shutil.ignore_patterns("locks"))
    formats = f"export={{formats: [{', '.join(FORMATS)}]}}"
    targets = [f"results/export/{MODEL}/{name}/{fmt}" for name in ("sft", "dpo", "o1_pruner") for fmt in FORMATS]
    targets.remove(f"results/export/{MODEL}/sft/parquet")  # O1-Pruner's own format: its sets only
    targets.remove(f"results/export/{MODEL}/dpo/parquet")
    command = snakemake_cmd(root, root / "config.yaml", "--cores", "2", *targets, "--config", formats)
    run = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=root)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "rule finetune" not in run.stdout + run.stderr  # exporting trains nothing
    return root


def _trainset(root, name):
    return pd.read_parquet(root / f"results/trainset/{MODEL}/toy/{name}.parquet")


def _system(root):
    import yaml

    return yaml.safe_load((root / "config.yaml").read_text())["prompt"]["system"]


def test_trl_exports_load_as_trl_conversational_datasets(exported):
    from datasets import load_dataset
    from trl.data_utils import is_conversational, maybe_apply_chat_template

    from o1pruner.models import load_tokenizer

    tok = load_tokenizer(str(exported / f"results/models/{MODEL}/reference"))
    for name in ("sft", "dpo", "o1_pruner"):
        data = load_dataset("json", data_files=str(exported / f"results/export/{MODEL}/{name}/trl/{name}.jsonl"))[
            "train"
        ]
        source = _trainset(exported, name)
        assert len(data) == len(source) > 0 and is_conversational(data[0]), name
        if name == "dpo":
            assert data[0]["chosen"] == [{"role": "assistant", "content": source["chosen"].iloc[0]}]
            assert data[0]["rejected"][0]["content"] == source["rejected"].iloc[0]
            rendered = maybe_apply_chat_template(data[0], tok)
            assert set(rendered) == {"prompt", "chosen", "rejected"} and _system(exported) in rendered["prompt"]
        else:
            assert [m["role"] for m in data[0]["messages"]] == ["system", "user", "assistant"]
            assert data[0]["messages"][-1]["content"] == source["response"].iloc[0]
            assert _system(exported) in maybe_apply_chat_template(data[0], tok)["text"]
        if name == "o1_pruner":
            assert data["advantage"] == pytest.approx(source["advantage"].tolist())
            assert data["ref_logp"] == pytest.approx(source["ref_logp"].tolist())


def test_llamafactory_exports_follow_its_documented_sharegpt_format(exported):
    """Field by field as hiyouga/LLaMA-Factory's data/README.md documents the sharegpt format:
    `conversations` of {from: human|gpt, value} (human first, gpt last for SFT), `system`, and for
    preference data `chosen`/`rejected` messages with `ranking: true` in dataset_info.json."""
    for name, preference in (("sft", False), ("dpo", True), ("o1_pruner", False)):
        folder = exported / f"results/export/{MODEL}/{name}/llamafactory"
        info = json.loads((folder / "dataset_info.json").read_text())
        columns = {"messages": "conversations", "system": "system"}
        if preference:
            columns.update(chosen="chosen", rejected="rejected")
        expected = {"file_name": f"{name}.json", "formatting": "sharegpt", "columns": columns}
        assert info == {name: {**expected, **({"ranking": True} if preference else {})}}
        rows = json.loads((folder / f"{name}.json").read_text())
        source = _trainset(exported, name)
        assert len(rows) == len(source)
        for row, (_, src) in zip(rows, source.iterrows()):
            assert row["system"] == _system(exported)
            roles = [t["from"] for t in row["conversations"]]
            if preference:
                assert roles == ["human"] and row["chosen"] == {"from": "gpt", "value": src["chosen"]}
                assert row["rejected"] == {"from": "gpt", "value": src["rejected"]}
            else:
                assert roles == ["human", "gpt"] and row["conversations"][1]["value"] == src["response"]


def test_the_parquet_export_is_o1_pruners_with_its_column_note(exported):
    folder = exported / f"results/export/{MODEL}/o1_pruner/parquet"
    table, source = pd.read_parquet(folder / "o1_pruner.parquet"), _trainset(exported, "o1_pruner")
    assert list(table.columns) == ["problem_id", "prompt", "response", "response_ids", "advantage", "ref_logp"]
    assert table["advantage"].tolist() == source["advantage"].tolist()
    assert [list(r) for r in table["response_ids"]] == [list(r) for r in source["response_ids"]]
    note = (folder / "README.md").read_text()
    assert all(f"`{column}`" in note for column in table.columns)
    # only the length-harmonizing training sets have it
    assert not (exported / f"results/export/{MODEL}/sft/parquet").exists()


def test_bad_input_is_one_line_and_writes_nothing(exported, tmp_path, capsys):
    problems = exported / f"results/data/toy/{MODEL}/train.jsonl"
    prompts = tmp_path / "prompts.parquet"
    pd.DataFrame({"problem_id": ["x"], "mean_tokens": [1.0]}).to_parquet(prompts)
    stray = tmp_path / "stray.parquet"
    pd.DataFrame({"problem_id": ["no-such-problem"], "response": ["r"]}).to_parquet(stray)
    sft = exported / f"results/trainset/{MODEL}/toy/sft.parquet"
    cases = [
        (prompts, "trl", f"{prompts}: not a training set of the workflow: no response column, nor chosen and rejected"),
        (stray, "trl", f"{problems}: no problem with id 'no-such-problem'"),
        (sft, "parquet", "the parquet export is O1-Pruner's own format; this is a sft training set"),
    ]
    for i, (trainset, fmt, message) in enumerate(cases):
        out = tmp_path / f"out{i}"
        args = ["export", "--trainset", str(trainset), "--problems", str(problems), "--format", fmt, "--name", "x",
                "--out", str(out)]  # fmt: skip
        assert main(args) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
        assert not out.exists()
