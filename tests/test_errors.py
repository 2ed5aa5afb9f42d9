"""Bad input fails early and clearly, naming the key, path, file or line, and leaves no output."""

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from helpers import presample_args, snakemake_cmd

from o1pruner.cli import main

REPO = Path(__file__).resolve().parents[1]


def smoke_config() -> dict:
    return yaml.safe_load((REPO / "config" / "smoke.yaml").read_text())


def dry_run(tmp_path: Path, cfg: dict) -> subprocess.CompletedProcess:
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    cmd = snakemake_cmd(tmp_path, tmp_path / "config.yaml", "-n")
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def _set(cfg: dict, dotted: str, value):
    *head, last = dotted.split(".")
    node = cfg
    for k in head:
        node = node[k]
    node[last] = value


@pytest.mark.parametrize(
    "key,value,expected",
    [
        ("sampling.k", 0, "['sampling']['k']"),
        ("reward.lambda", -1.0, "['reward']['lambda']"),
        ("training.epsilon", 1.5, "['training']['epsilon']"),
        ("training.epsilon", 0.0, "['training']['epsilon']"),
        ("datasets.test", [], "['datasets']['test']"),
        ("sampling.temperature", "hot", "['sampling']['temperature']"),
        ("sampling.top_k", 5, "'top_k' was unexpected"),
        ("reward.normalize", "minmax", "['reward']['normalize']"),
    ],
)
def test_config_errors_name_the_key_before_any_job(tmp_path, key, value, expected):
    cfg = smoke_config()
    _set(cfg, key, value)
    result = dry_run(tmp_path, cfg)
    assert result.returncode != 0
    assert expected in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()


def test_missing_model_path_fails_in_the_first_rule_that_loads_it(tmp_path):
    problems = tmp_path / "problems.jsonl"
    problems.write_text(json.dumps({"id": "a", "problem": "1+1?", "answer": "2"}) + "\n")
    out = tmp_path / "samples.parquet"
    settings = json.dumps(
        {
            "k": 1,
            "temperature": 1.0,
            "top_p": 1.0,
            "max_new_tokens": 8,
            "batch_size": 1,
            "seed": 0,
            "system_prompt": None,
            "answer_box": "last",
        }
    )
    code = main(presample_args(tmp_path / "no-such-model", problems, settings, out))
    assert code == 2 and not out.exists()
    (tmp_path / "half-model").mkdir()
    (tmp_path / "half-model" / "config.json").write_text("{}")
    with pytest.raises(Exception, match="no tokenizer files"):
        from o1pruner.models import check_model_path

        check_model_path(str(tmp_path / "half-model"))


def test_missing_model_path_through_the_workflow(tmp_path):
    cfg = smoke_config()
    cfg["model"].update(path=str(tmp_path / "no-such-model"), toy_reference=False)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    cmd = snakemake_cmd(tmp_path, tmp_path / "config.yaml", "--cores", "1", "--until", "presample")
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode != 0
    log = (tmp_path / "logs/presample/toy-qwen2/toy/0-of-1.log").read_text()
    assert f"model path '{tmp_path / 'no-such-model'}' does not exist" in log
    assert not (tmp_path / "results/samples").exists() or not any((tmp_path / "results/samples").rglob("*.parquet"))


def test_malformed_and_empty_problem_files(tmp_path):
    from o1pruner.io import InputError, read_jsonl

    f = tmp_path / "p.jsonl"
    f.write_text('{"id": "a", "problem": "x", "answer": "1"}\n{"id": "b", "problem": "y"}\n')
    with pytest.raises(InputError, match=r"p.jsonl, line 2: missing field\(s\) answer"):
        read_jsonl(f, required=("id", "problem", "answer"))
    f.write_text('{"id": "a", "problem": "x", "answer": "1"}\n{oops\n')
    with pytest.raises(InputError, match=r"p.jsonl, line 2: not valid JSON"):
        read_jsonl(f)
    f.write_text("\n")
    with pytest.raises(InputError, match=r"p.jsonl: no rows"):
        read_jsonl(f)


def test_missing_input_file_is_a_clear_error(tmp_path):
    code = main(["baseline", "--samples", str(tmp_path / "none.parquet"), "--out", str(tmp_path / "o.parquet")])
    assert code == 2 and not (tmp_path / "o.parquet").exists()
