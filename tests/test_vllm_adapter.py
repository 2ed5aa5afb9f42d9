"""The vLLM backend's side of the contract on the CUDA platform, against a stand-in `vllm`
module: the real engine runs here only as the CPU build (tests/test_vllm.py), where per-request
seeds do not exist. This pins down what our code asks of a CUDA engine and how it reads the
answers: one SamplingParams per prompt seeded by the prompt's global index (so shards cannot
change samples), greedy as temperature 0, banned phrases as token sequences for the project's
logits processor (not vLLM's `bad_words`), the end-of-turn token as the stop token, token
counts from `token_ids`.
"""

import json
import sys
import types
from dataclasses import dataclass, field

import pandas as pd
import pytest
from helpers import presample_args

from o1pruner.cli import main


@dataclass
class FakeSamplingParams:
    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 16
    seed: int | None = None
    stop_token_ids: list = field(default_factory=list)
    skip_special_tokens: bool = True
    extra_args: dict | None = None
    top_k: int = 0
    min_p: float = 0.0
    repetition_penalty: float = 1.0
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0


class FakeLLM:
    """Answers each prompt with `\\boxed{seed % 10}` plus sample index: deterministic in the seed."""

    instances: list = []

    def __init__(self, model, **engine_args):
        from transformers import AutoTokenizer

        self.engine_args = engine_args
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.calls = []
        FakeLLM.instances.append(self)

    def generate(self, prompts, params, use_tqdm=True):
        assert isinstance(params, list) and len(params) == len(prompts)
        self.calls.append((list(prompts), list(params)))
        requests = []
        for p in params:
            outputs = []
            for j in range(p.n):
                text = f"The answer is \\boxed{{{((p.seed or 0) + j) % 10}}}."
                ids = self.tokenizer(text, add_special_tokens=False).input_ids
                truncated = len(ids) >= p.max_tokens
                ids = ids[: p.max_tokens] if truncated else ids + p.stop_token_ids[:1]
                outputs.append(
                    types.SimpleNamespace(token_ids=ids, text=text, finish_reason="length" if truncated else "stop")
                )
            requests.append(types.SimpleNamespace(outputs=outputs))
        return requests


@pytest.fixture
def fake_vllm(monkeypatch):
    module = types.ModuleType("vllm")
    module.LLM, module.SamplingParams = FakeLLM, FakeSamplingParams
    platforms = types.ModuleType("vllm.platforms")
    platforms.current_platform = types.SimpleNamespace(is_cpu=lambda: False)  # a CUDA machine
    monkeypatch.setitem(sys.modules, "vllm", module)
    monkeypatch.setitem(sys.modules, "vllm.platforms", platforms)
    FakeLLM.instances = []
    return FakeLLM


SETTINGS = {
    "backend": "vllm",
    "vllm": {
        "tensor_parallel_size": 2,
        "max_model_len": 512,
        "gpu_memory_utilization": 0.5,
        "cpu_kv_cache_gib": 1,
        "enforce_eager": False,
    },
    "k": 3,
    "temperature": 0.7,
    "top_p": 0.9,
    "max_new_tokens": 32,
    "batch_size": 6,
    "seed": 11,
    "system_prompt": "Answer in \\boxed{}.",
    "answer_box": "last",
    "dtype": "bfloat16",
    "trust_remote_code": False,
}


def presample(model, problems, out, shard=0, shards=1):
    args = presample_args(
        model, problems, json.dumps(SETTINGS), out, "--shard", str(shard), "--num-shards", str(shards)
    )
    assert main(args) == 0
    return pd.read_parquet(out)


def test_engine_and_sampling_settings_reach_a_stand_in_vllm(fake_vllm, tiny_model, tmp_path):
    model, problems = tiny_model
    df = presample(model, problems, tmp_path / "samples.parquet")
    (llm,) = fake_vllm.instances
    assert llm.engine_args == {
        "dtype": "bfloat16",
        "tensor_parallel_size": 2,
        "max_model_len": 512,
        "seed": 11,
        "gpu_memory_utilization": 0.5,
        "trust_remote_code": False,
        "enforce_eager": False,
        "generation_config": "vllm",  # the checkpoint's decoding settings are ignored
        "logits_processors": ["o1pruner.sampling.vllm_logits:BannedSequences"],
    }
    prompts, params = llm.calls[0]
    assert len(prompts) == 20 and all(p.endswith("assistant\n") for p in prompts)
    assert [p.seed for p in params] == [11 + i for i in range(20)]
    assert {(p.n, p.temperature, p.top_p, p.max_tokens, p.extra_args) for p in params} == {(3, 0.7, 0.9, 32, None)}
    assert params[0].stop_token_ids == [llm.tokenizer.eos_token_id]
    neutral = {(p.top_k, p.min_p, p.repetition_penalty, p.presence_penalty, p.frequency_penalty) for p in params}
    assert neutral == {(-1, 0.0, 1.0, 0.0, 0.0)}
    # Rows as the transformers backend writes them; token counts include the end-of-turn token.
    assert len(df) == 60 and list(df["sample_idx"][:3]) == [0, 1, 2]
    assert (df["n_tokens"] == df["response_ids"].map(len)).all()
    assert all(ids[-1] == llm.tokenizer.eos_token_id for ids in df["response_ids"])
    assert df["extracted_answer"].iloc[0] == str(11 % 10)


def test_prompt_seeds_sent_to_a_stand_in_vllm_do_not_depend_on_sharding(fake_vllm, tiny_model, tmp_path):
    """The stand-in answers as a function of each request's seed, so this holds exactly when our
    backend seeds every prompt by its global index whatever the shard (what CUDA vLLM needs for
    shard-independent samples); whether CUDA vLLM honours the seed is scripts/gpu-check.sh's
    to show where a GPU and CUDA vLLM are at hand."""
    model, problems = tiny_model
    whole = presample(model, problems, tmp_path / "whole.parquet")
    parts = [presample(model, problems, tmp_path / f"part{s}.parquet", s, 3) for s in range(3)]
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)


def test_greedy_evaluation_with_banned_markers_through_a_stand_in_vllm(fake_vllm, tiny_model):
    from o1pruner.sampling.backends import load_generator

    model, _ = tiny_model
    from o1pruner.sampling.banned import VLLM_EXTRA_ARGS_KEY, banned_token_sequences
    from o1pruner.settings import PresampleSettings

    settings = PresampleSettings.from_json({**SETTINGS, "dtype": "float32"})
    generator, tok = load_generator(str(model), settings, threads=1)
    out = generator(
        ["a", "b"],
        num_samples=1,
        do_sample=False,
        temperature=1.0,
        top_p=0.9,
        max_new_tokens=3,
        seed=0,
        first_index=4,
        banned_phrases=["Wait"],
        batch_size=64,
    )
    _, params = fake_vllm.instances[0].calls[0]
    banned = {VLLM_EXTRA_ARGS_KEY: banned_token_sequences(tok, ["Wait"])}
    assert len(banned[VLLM_EXTRA_ARGS_KEY]) >= 2  # `Wait` and ` Wait` at least
    assert [(p.temperature, p.top_p, p.seed, p.extra_args) for p in params] == [
        (0.0, 1.0, None, banned),
        (0.0, 1.0, None, banned),
    ]
    assert all(g.truncated and len(g.token_ids) == 3 for gens in out for g in gens)


def test_the_engine_arguments_exist_in_the_real_vllm(fake_vllm, tiny_model, tmp_path):
    """The stand-in takes any keyword; the real engine (the CPU build in .venv-vllm, same version
    as the CUDA pin) must know every argument the backend passes."""
    import os
    import subprocess

    from helpers import REPO

    python = REPO / ".venv-vllm" / "bin" / "python"
    if not python.exists():
        if os.environ.get("CI"):
            pytest.fail("no vLLM environment in .venv-vllm on CI (bash scripts/setup.sh --vllm)")
        pytest.skip("no vLLM environment in .venv-vllm (bash scripts/setup.sh --vllm)")
    model, problems = tiny_model
    presample(model, problems, tmp_path / "samples.parquet")
    passed = set(fake_vllm.instances[-1].engine_args)
    fields = (
        "import dataclasses; from vllm.engine.arg_utils import EngineArgs; "
        "print(*[f.name for f in dataclasses.fields(EngineArgs)])"
    )
    known = subprocess.run([str(python), "-c", fields], capture_output=True, text=True, check=True).stdout.split()
    assert passed and passed <= set(known), sorted(passed - set(known))
