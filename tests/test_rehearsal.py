"""A CPU rehearsal of each real-model config: only what cannot exist on a CPU machine changes,
every change is a row, and the tiny model carries the real tokenizer's ids."""

import json
from pathlib import Path

import pytest

from o1pruner import rehearsal
from o1pruner.config.checks import check_planned_config
from o1pruner.config.load import load_config, load_schema

REPO = Path(__file__).resolve().parents[1]
SCHEMA = load_schema(REPO / "config" / "schema.yaml")
TOKENIZER = REPO.parent / "shared" / "tokenizers" / "deepseek-r1-distill-qwen-1.5b"
REAL = ["paper_marco_o1.yaml", "paper_qwq.yaml", "r1_distill_qwen.yaml"]


@pytest.fixture(autouse=True)
def in_repository(monkeypatch):
    monkeypatch.chdir(REPO)


def rehearsed(name: str) -> tuple[dict, dict, list]:
    real = load_config(REPO / "config" / name, REPO / "config" / "rehearsal.yaml")
    config, rows = rehearsal.rehearse(real)
    return real, config, rows


def _leaves(value, prefix=""):
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _leaves(child, f"{prefix}{key}.")
    else:
        yield prefix[:-1], value


@pytest.mark.parametrize("name", REAL)
def test_every_change_is_a_row_and_the_rest_is_the_real_run(name):
    real, config, rows = rehearsed(name)
    check_planned_config(config, SCHEMA)
    changed = {key for key, _, _ in rows}
    before, after = dict(_leaves(real)), dict(_leaves(config))
    differing = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    # Every difference is listed (a key a row replaced wholesale covers its leaves).
    assert all(any(k == c or k.startswith(c + ".") for c in changed) for k in differing), differing - changed
    # What a rehearsal keeps: the run's methods, controls, backend, launcher, precision, prompt.
    for kept in [
        "training.methods",
        "training.distributed",
        "training.bf16",
        "training.save_dtype",
        "training.finetuning",
        "training.learning_rate",
        "sampling.backend",
        "evaluation.backend",
        "evaluation.controls",
        "prompt.system",
        "prompt.thinking_end",
        "model.dtype",
        "model.paper_name",
        "ablations.lambdas",
        "reward.lambda",
    ]:
        assert kept not in changed, kept
    assert config["model"]["name"] == real["model"]["name"] + "-rehearsal"
    assert not config["model"]["toy_reference"]
    for dataset, splits in config["datasets"]["sources"].items():
        for split, source in splits.items():
            assert Path(source["source"]).is_file(), (dataset, split, source)


def test_sharded_training_runs_on_cpu_processes_and_freezing_keeps_its_proportion():
    _, qwq, rows = rehearsed("paper_qwq.yaml")
    assert qwq["training"]["distributed"] == "zero3" and qwq["training"]["cpu_processes"] == 2
    assert qwq["training"]["gpus"] == 0
    # 48 of 64 layers -> 3 of 4; the DPO override's 36 of 64 -> 2 of 4
    assert qwq["training"]["trainable_last_layers"] == 3
    assert qwq["training"]["method_overrides"]["dpo"]["trainable_last_layers"] == 2
    assert qwq["vllm"]["tensor_parallel_size"] == 1
    assert ["vllm.tensor_parallel_size", "2", "1"] in rows


def test_token_caps_budgets_and_sampled_counts_scale_together():
    real, r1, _ = rehearsed("r1_distill_qwen.yaml")
    caps = r1["evaluation"]["max_new_tokens"]
    assert caps == {"default": 48, "gsm8k": 24}  # 16384 and 8192, scaled to the rehearsal's 48
    budgets = r1["evaluation"]["budget_forcing"]["budgets"]
    assert len(budgets) == len(real["evaluation"]["budget_forcing"]["budgets"])
    assert budgets == sorted(budgets) and max(budgets) <= min(caps.values())  # as 8192 <= 8192 in the real run
    assert set(r1["evaluation"]["sampled"]["samples_per_problem"].values()) == {2}
    assert r1["evaluation"]["sampled"]["pass_k"] == [1, 2]
    assert r1["sampling"]["k"] == 4 and r1["sampling"]["max_new_tokens"] == 48
    assert r1["datasets"]["sources"]["math"]["train"]["source"].endswith("math/test.jsonl")


def test_rehearsals_that_make_the_same_tiny_model_share_its_folder_and_no_other_does():
    """QwQ's and Marco-o1's rehearsals make the same model (settings, training problems): one
    folder, trained once; R1's prompt ends its thinking with </think>: another folder; so does
    another training set."""
    folders = {name: rehearsed(name)[1]["model"]["path"] for name in REAL}
    assert folders["paper_qwq.yaml"] == folders["paper_marco_o1.yaml"] != folders["r1_distill_qwen.yaml"]
    assert all(f.startswith("results/models/rehearsal-") and f.endswith("/reference") for f in folders.values())
    _, qwq, rows = rehearsed("paper_qwq.yaml")
    assert [row[0] for row in rows[:2]] == ["model.name", "model.path"]
    qwq["datasets"]["sources"]["math"]["train"]["n"] = 32
    assert rehearsal.model_folder(qwq) != folders["paper_qwq.yaml"]


def test_rehearsal_is_off_by_default_and_an_overlay():
    assert load_config(REPO / "config" / "paper_qwq.yaml")["rehearsal"]["enabled"] is False
    assert "model" not in __import__("yaml").safe_load((REPO / "config" / "rehearsal.yaml").read_text())


@pytest.mark.skipif(not TOKENIZER.is_dir(), reason=f"{TOKENIZER} is absent (it ships beside the checkout)")
def test_the_tiny_model_keeps_the_real_tokenizer_ids_and_learns_its_answers(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerFast

    from o1pruner.rehearsal_model import RehearsalModelSettings, build_rehearsal_model

    rows = [
        {"id": f"p{i}", "problem": f"What is {i} plus {i + 3}?", "answer": str(2 * i + 3), "solution": f"{i}+{i + 3}"}
        for i in range(4)
    ]
    problems = tmp_path / "train.jsonl"
    problems.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = load_config(REPO / "config" / "r1_distill_qwen.yaml", REPO / "config" / "rehearsal.yaml")
    settings = rehearsal.model_settings(rehearsal.rehearse(config)[0])
    settings.update(tokenizer=str(TOKENIZER), steps=120, batch_size=8)
    accuracy = build_rehearsal_model(RehearsalModelSettings.from_json(settings), str(problems), str(tmp_path / "m"))
    assert accuracy >= 0.5  # it learnt the answers of its training problems
    # The ids are the real tokenizer's after a reload through AutoTokenizer (transformers 5 may
    # swap in another pre-tokenizer for a qwen2 folder; the files are copied byte for byte).
    text = "Let me think.\n</think>\n\nThe answer is $\\boxed{12}$. 数学"
    real_ids = PreTrainedTokenizerFast(tokenizer_file=str(TOKENIZER / "tokenizer.json"))(text).input_ids
    assert AutoTokenizer.from_pretrained(tmp_path / "m")(text, add_special_tokens=False).input_ids == real_ids
    assert (tmp_path / "m" / "tokenizer.json").read_bytes() == (TOKENIZER / "tokenizer.json").read_bytes()
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "m")
    assert model.config.model_type == "qwen2" and model.config.num_hidden_layers == 4
    assert model.config.vocab_size == 151936
