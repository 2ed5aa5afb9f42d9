"""GPU paths: vLLM sampling and multi-GPU training. Skipped with a reason on CPU-only machines."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
no_gpu = not torch.cuda.is_available()

pytestmark = pytest.mark.gpu


@pytest.mark.skipif(no_gpu, reason="needs a CUDA GPU (vLLM sampling)")
@pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="vLLM is not installed (pip install -e .[vllm])")
def test_vllm_backend_matches_the_sample_format(tmp_path):
    from helpers import presample_args

    from o1pruner.cli import main

    model, problems = _tiny(tmp_path)
    for backend in ("transformers", "vllm"):
        settings = json.dumps(
            {
                "backend": backend,
                "k": 4,
                "temperature": 1.0,
                "top_p": 1.0,
                "max_new_tokens": 32,
                "batch_size": 64,
                "seed": 0,
                "system_prompt": "Answer in \\boxed{}.",
                "answer_box": "last",
                "dtype": "float32",
                "vllm": {
                    "tensor_parallel_size": 1,
                    "max_model_len": None,
                    "gpu_memory_utilization": 0.3,
                    "cpu_kv_cache_gib": 1,
                    "enforce_eager": False,
                },
            }
        )
        out = tmp_path / f"{backend}.parquet"
        assert main(presample_args(model, problems, settings, out)) == 0
    import pandas as pd

    hf, vl = pd.read_parquet(tmp_path / "transformers.parquet"), pd.read_parquet(tmp_path / "vllm.parquet")
    assert list(hf.columns) == list(vl.columns) and len(hf) == len(vl)
    assert (vl["n_tokens"] == vl["response_ids"].map(len)).all()


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
