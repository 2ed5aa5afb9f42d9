"""The GPU check (`bash scripts/gpu-check.sh`): the toy training path on one CUDA GPU.

1. bf16 mixed precision keeps fp32 master weights on CUDA: 20 O1-Pruner steps at lr 2e-6
   with bf16 autocast move the weights like fp32 training (norm ratio, cosine), and pure bf16
   does not (the same check as tests/test_finetune.py, on the GPU).
2. Pre-sampling and greedy evaluation with the transformers backend on CUDA, timed: generated
   tokens per second, and the samples' accuracy and length.
3. On-policy training (`o1pruner train --trainer grpo`, TRL's GRPOTrainer, ShorterBetter's
   reward) on CUDA with bf16 autocast: 16 prompts, groups of 4; every rollout is recorded with
   a finite reward, and the weights move.
4. vLLM on CUDA, where `.venv-vllm` holds it (`bash scripts/setup.sh --vllm`): pre-sampling in
   one job and in two shards gives the same samples, i.e. the engine honours the per-request
   seeds the backend sends (tests/test_vllm_adapter.py checks only that they are sent, to a
   stand-in); says why where it cannot run (no GPU, or no vLLM: its wheel cannot be carried to a
   machine without a registry).
5. Real dimensions (R1-Distill-Qwen-1.5B's shape, randomly initialised on the GPU, the real
   tokenizer of ../shared/tokenizers): O1-Pruner steps as the trainer takes them (fp32 weights,
   bf16 autocast, AdamW, logits only where a response token is predicted), peak GPU memory
   against `o1pruner memory`'s estimate, and generated tokens/s of the transformers backend. On
   CPU a miniature body with the real vocabulary stands in (peak memory is not measured there).
Prints one line per result; exits non-zero if a check fails. Runs on CPU too (slowly), which is
how it is tested where no GPU is lent.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO / "tests")]

from helpers import (  # noqa: E402
    grpo_prompts,
    o1_pruner_training_data,
    presample_args,
    presample_settings,
    tiny_toy_model,
    training_settings,
)
from safetensors.torch import load_file  # noqa: E402

from o1pruner.cli import main  # noqa: E402
from o1pruner.settings import TrainingSettings  # noqa: E402
from o1pruner.stages import finetune  # noqa: E402

DEVICE = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU (no GPU found)"


def update(base: Path, tuned: Path) -> torch.Tensor:
    w0, w = load_file(base / "model.safetensors"), load_file(tuned / "model.safetensors")
    return torch.cat([(w[k].float() - w0[k].float()).flatten() for k in sorted(w0)])


def precision_check(data: Path, out: Path) -> bool:
    common = dict(learning_rate=2e-6, per_device_batch_size=4, global_batch_size=4, epochs=5, lr_scheduler="constant")
    results = {}
    for name, extra in (
        ("fp32", {"bf16": False}),
        ("mixed", {"bf16": True}),
        ("pure", {"bf16": True, "pure_bf16": True}),
    ):
        settings = TrainingSettings.from_json(
            training_settings(**{**common, "warmup_ratio": 0.0, "cutoff_len": 256, "dtype": "bfloat16", **extra})
        )
        start = time.perf_counter()
        finetune(trainer="o1_pruner", model_path=str(data / "model"), trainset_path=str(data / "trainset.parquet"),
                 problems_path=str(data / "problems.jsonl"), settings=settings, seed=0, out=str(out / name),
                 threads=None)  # fmt: skip
        results[name] = (update(data / "model", out / name), time.perf_counter() - start)
    ok = True
    for name, expect_same in (("mixed", True), ("pure", False)):
        u, seconds = results[name]
        ref = results["fp32"][0]
        ratio = float(u.norm() / ref.norm())
        cosine = float(torch.nn.functional.cosine_similarity(u, ref, dim=0))
        same = 0.8 <= ratio <= 1.25 and cosine >= 0.9
        ok &= same == expect_same
        verdict = "like fp32" if same else "not like fp32"
        expected = "as expected" if same == expect_same else "UNEXPECTED"
        print(
            f"precision {name}: update norm {ratio:.3f}x fp32, cosine {cosine:.3f}, {seconds:.1f} s",
            f"-> {verdict} ({expected})",
        )
    return ok


def generation_check(data: Path, out: Path) -> bool:
    import pandas as pd

    model = {"system_prompt": "Answer in \\boxed{}.", "answer_box": "last", "dtype": "bfloat16",
             "trust_remote_code": False, "backend": "transformers", "vllm": None, "max_new_tokens": 64}  # fmt: skip
    settings = {**model, "k": 8, "temperature": 1.0, "top_p": 1.0, "batch_size": 256, "seed": 0}
    greedy = {**model, "batch_size": 64, "do_sample": False, "num_samples": 1, "temperature": 1.0, "top_p": 1.0,
              "seed": 0, "pass_k": [1], "fast_prompt": False, "banned_phrases": []}  # fmt: skip
    start = time.perf_counter()
    code = main(presample_args(data / "model", data / "problems.jsonl", json.dumps(settings), out / "samples.parquet"))
    wall = time.perf_counter() - start
    if code:
        return False
    df = pd.read_parquet(out / "samples.parquet")
    print(f"pre-sampling: {len(df)} samples, {df['n_tokens'].sum() / wall:.0f} generated tokens/s "
          f"(load included, {wall:.1f} s), mean {df['n_tokens'].mean():.1f} tokens")  # fmt: skip
    args = ["evaluate", "--model", str(data / "model"), "--problems", str(data / "problems.jsonl"), "--settings",
            json.dumps(greedy), "--run", "reference", "--out", str(out / "eval.parquet"),
            "--metrics", str(out / "eval.json")]  # fmt: skip
    start = time.perf_counter()
    code = main(args)
    wall = time.perf_counter() - start
    if code:
        return False
    metrics = json.loads((out / "eval.json").read_text())
    n_tokens = pd.read_parquet(out / "eval.parquet")["n_tokens"].sum()
    rate = n_tokens / wall
    print(f"greedy evaluation: {metrics['n_problems']} problems, {rate:.0f} generated tokens/s, ")
    print(f"  accuracy {metrics['accuracy']:.1f}% (a random-init model), mean {metrics['mean_tokens']:.1f} tokens")
    return True


def grpo_check(data: Path, out: Path) -> bool:
    import pandas as pd

    prompts = out / "prompts.parquet"
    out.mkdir(parents=True)
    n_problems = grpo_prompts(data / "problems.jsonl", prompts, mean_tokens=32.0)
    settings = training_settings("grpo", learning_rate=1e-4, per_device_batch_size=8, global_batch_size=8,
                                 warmup_ratio=0.0, cutoff_len=256, bf16=True, epochs=1)  # fmt: skip
    settings["grpo"].update(max_completion_length=48)
    args = ["train", "--trainer", "grpo", "--model", str(data / "model"), "--trainset", str(prompts),
            "--problems", str(data / "problems.jsonl"), "--settings", json.dumps(settings), "--seed", "0",
            "--out", str(out / "model")]  # fmt: skip
    start = time.perf_counter()
    if main(args):
        return False
    wall = time.perf_counter() - start
    rollouts = pd.read_parquet(out / "model" / "rollouts.parquet")
    info = json.loads((out / "model" / "o1pruner_training.json").read_text())
    moved = float(update(data / "model", out / "model").norm())
    ok = len(rollouts) == n_problems * settings["grpo"]["generations"] and bool(rollouts["reward"].notna().all())
    ok &= moved > 0 and info["device"].startswith("cuda") == torch.cuda.is_available()  # trained where it should
    print(f"grpo: {len(rollouts)} rollouts ({rollouts['n_tokens'].sum()} tokens, mean reward "
          f"{rollouts['reward'].mean():.3f}) in {wall:.1f} s on {info['device']} ({DEVICE}), "
          f"update norm {moved:.2e} -> {'ok' if ok else 'FAILED'}")  # fmt: skip
    return ok


VLLM_CLI = REPO / ".venv-vllm" / "bin" / "o1pruner"  # config vllm.venv's default


def vllm_check(out: Path, cuda: bool = torch.cuda.is_available()) -> bool:
    if not cuda or not VLLM_CLI.exists():
        why = "no CUDA GPU" if not cuda else f"{VLLM_CLI} is absent: bash scripts/setup.sh --vllm"
        print(f"vLLM seeds on CUDA: not checked ({why}); tests/test_vllm_adapter.py checks that the backend "
              "sends them, to a stand-in")  # fmt: skip
        return True
    import pandas as pd

    torch.cuda.empty_cache()  # what the checks before this one left cached, for the engine
    model, problems, _ = tiny_toy_model(out, 16, hidden=128)  # heads of 64: a size every attention backend has
    settings = presample_settings(
        "vllm", {"gpu_memory_utilization": 0.3, "enforce_eager": True}, k=8, max_new_tokens=64
    )
    jobs = {"one": [[]], "shards": [["--shard", str(i), "--num-shards", "2"] for i in (0, 1)]}
    samples, start = {}, time.perf_counter()
    for name, shards in jobs.items():
        frames = []
        for n, extra in enumerate(shards):
            path = out / f"{name}-{n}.parquet"
            command = [str(VLLM_CLI), *presample_args(model, problems, settings, path, *extra)]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode:
                print(f"vLLM seeds on CUDA: {name} failed: {done.stderr[-1500:]}")
                return False
            frames.append(pd.read_parquet(path))
        samples[name] = pd.concat(frames).sort_values(["problem_id", "sample_idx"]).reset_index(drop=True)
        if name == "one":
            rate = samples[name]["n_tokens"].sum() / (time.perf_counter() - start)
    same = samples["one"]["response_ids"].map(list).equals(samples["shards"]["response_ids"].map(list))
    print(f"vLLM seeds on CUDA: {len(samples['one'])} samples, one job and two shards "
          f"{'identical' if same else 'DIFFER'}; {rate:.0f} generated tokens/s (engine start included) "
          f"-> {'ok' if same else 'FAILED'}")  # fmt: skip
    return same


TOKENIZER = REPO.parent / "shared" / "tokenizers" / "deepseek-r1-distill-qwen-1.5b"


def real_dims_check() -> bool:
    from transformers import AutoTokenizer

    from o1pruner.real_dims import real_dim_model
    from o1pruner.sampling.decoding import Decoding
    from o1pruner.sampling.hf_backend import generate
    from o1pruner.train.data import PaddingCollator, encode_examples
    from o1pruner.train.loss import length_harmonizing_loss, response_mean_logprobs
    from o1pruner.train.memory import Architecture, training_memory

    cuda = torch.cuda.is_available()
    shape, seq_len, new_tokens = ("r1-distill-qwen-1.5b", 2048, 256) if cuda else ("miniature", 128, 16)
    device = "cuda" if cuda else "cpu"
    model = real_dim_model(TOKENIZER, shape, "float32", device=device)
    tok = AutoTokenizer.from_pretrained(TOKENIZER)
    arch = Architecture.from_config(model.config.to_dict())
    system = "Please reason step by step, and put your final answer within \\boxed{}."
    response = list(range(1000, 1000 + seq_len - 40)) + [tok.eos_token_id]
    batch = PaddingCollator(tok.pad_token_id)(
        [{**ex, "ref_logp": -11.0, "advantage": 1.0}
         for ex in encode_examples(tok, ["What is 3 plus 4?"], [response], system, seq_len)]
    )  # fmt: skip
    batch = {k: v.to(device) for k, v in batch.items()}
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-6)
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    losses = []
    for _ in range(3):
        with torch.autocast(device, dtype=torch.bfloat16):
            logp = response_mean_logprobs(model, batch["input_ids"], batch["attention_mask"], batch["response_mask"])
        loss, _ = length_harmonizing_loss(logp.float(), batch["ref_logp"], batch["advantage"], 0.2)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
    train_s = time.perf_counter() - start
    tokens = int(batch["input_ids"].shape[1])
    estimate = training_memory(arch, seq_len=tokens, micro_batch=1, gpus=1, sharding="ddp",
                               gradient_checkpointing=False)["total"]  # fmt: skip
    if cuda:
        peak = torch.cuda.max_memory_allocated() / 1024**3
        memory = f"peak {peak:.1f} GB against an estimate of {estimate:.1f} GB ({peak / estimate:.2f}x)"
    else:
        memory = f"estimate {estimate:.2f} GB (peak memory measured on CUDA only)"
    del opt
    model.eval()
    prompts = [tok.apply_chat_template([{"role": "user", "content": f"What is {i} plus {i}?"}], tokenize=False,
                                       add_generation_prompt=True) for i in range(8)]  # fmt: skip
    start = time.perf_counter()
    out = generate(model, tok, prompts, Decoding(num_samples=8, do_sample=True, max_new_tokens=new_tokens),
                   batch_size=64, progress=False)  # fmt: skip
    gen_s = time.perf_counter() - start
    generated = sum(len(g.token_ids) for gens in out for g in gens)
    ok = all(map(math.isfinite, losses)) and generated > 0
    print(f"real dimensions: {shape} ({arch.params() / 1e9:.2f}B parameters, vocabulary {arch.vocab_size}) on "
          f"{device}: 3 O1-Pruner steps of {tokens} tokens in {train_s:.1f} s, {memory}; "
          f"{generated / gen_s:.0f} generated tokens/s (64 sequences of up to {new_tokens}) "
          f"-> {'ok' if ok else 'FAILED'}")  # fmt: skip
    return ok


def run() -> int:
    print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, device: {DEVICE}")
    with tempfile.TemporaryDirectory() as tmp:
        data = o1_pruner_training_data(Path(tmp) / "data", n_rows=16)
        ok = precision_check(data, Path(tmp) / "precision")
        ok &= generation_check(data, Path(tmp) / "generation")
        ok &= grpo_check(data, Path(tmp) / "grpo")
        ok &= vllm_check(Path(tmp) / "vllm")
    ok &= real_dims_check()
    print("gpu-check:", "passed" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(run())
