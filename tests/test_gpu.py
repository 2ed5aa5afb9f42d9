"""GPU paths: vLLM sampling and multi-GPU training. Skipped with a reason on CPU-only machines."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
no_gpu = not torch.cuda.is_available()

pytestmark = pytest.mark.gpu


VLLM_CLI = REPO / ".venv-vllm" / "bin" / "o1pruner"


@pytest.mark.skipif(not VLLM_CLI.exists(), reason="no vLLM environment (bash scripts/setup.sh --vllm)")
@pytest.mark.skipif(no_gpu, reason="needs a CUDA GPU (vLLM's CUDA build, per-prompt seeds)")
def test_vllm_backend_matches_the_sample_format(tmp_path):
    """On CUDA: the vLLM environment's `o1pruner` writes the same rows as the transformers
    backend, and 1 vs 2 shards give the same samples (per-prompt seeds)."""
    from helpers import presample_args

    model, problems = _tiny(tmp_path)
    for backend in ("transformers", "vllm"):
        settings = json.dumps(
            {
                "backend": backend,
                "k": 4,
                "temperature": 1.0,
                "top_p": 1.0,
                "max_new_tokens": 32,
                "batch_size": 16,  # 4 prompts x k per batch: 4 batches, so 2 shards of 2
                "seed": 0,
                "system_prompt": "Answer in \\boxed{}.",
                "answer_box": "last",
                "dtype": "float32",
                "trust_remote_code": False,
                "vllm": {
                    "tensor_parallel_size": 1,
                    "max_model_len": None,
                    "gpu_memory_utilization": 0.3,
                    "cpu_kv_cache_gib": 1,
                    "enforce_eager": False,
                },
            }
        )
        cli = VLLM_CLI if backend == "vllm" else Path(sys.executable).parent / "o1pruner"
        for shards in (1, 2):
            for shard in range(shards):
                out = tmp_path / f"{backend}-{shard}-of-{shards}.parquet"
                args = presample_args(
                    model, problems, settings, out, "--shard", str(shard), "--num-shards", str(shards)
                )
                subprocess.run([str(cli), *args], check=True, timeout=900)
    import pandas as pd

    def read(backend, shards):
        return pd.concat([pd.read_parquet(tmp_path / f"{backend}-{s}-of-{shards}.parquet") for s in range(shards)])

    hf, vl = read("transformers", 1), read("vllm", 1)
    assert list(hf.columns) == list(vl.columns) and len(hf) == len(vl)
    assert (vl["n_tokens"] == vl["response_ids"].map(len)).all()
    pd.testing.assert_frame_equal(vl.reset_index(drop=True), read("vllm", 2).reset_index(drop=True))


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs 2 GPUs (accelerate launch, 2 processes)")
def test_two_process_training_step(tmp_path):
    cmd = [
        "accelerate",
        "launch",
        "--num_processes",
        "2",
        "--config_file",
        str(REPO / "config/accelerate/ddp.yaml"),
        str(REPO / "benchmarks" / "train_step_o1pruner_vs_sft.py"),
        "--repeats",
        "3",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=REPO / "benchmarks")
    assert result.returncode == 0, result.stderr[-3000:]


def _tiny(tmp_path):
    from helpers import tiny_toy_model

    model, problems, _ = tiny_toy_model(tmp_path, 16, hidden=64, layers=2)
    return model, problems


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v"]))
