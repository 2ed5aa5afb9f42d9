"""Batched `generate` vs a one-prompt-at-a-time loop: generated tokens per second, and their ratio.

Both decode exactly `--new-tokens` tokens per sequence (end-of-turn suppressed), so the ratio
measures throughput, not answer lengths. Goal: >= 5x on 2 CPU cores.

    python benchmarks/sampling_batched_vs_loop.py [--model results/models/toy-qwen2/reference]
"""

import argparse
import time

import torch
from _toy import toy_setup


def tokens_per_second(model, tok, prompts, batch_size, new_tokens):
    tok.padding_side = "left"
    start, n = time.perf_counter(), 0
    for i in range(0, len(prompts), batch_size):
        enc = tok(prompts[i : i + batch_size], return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.inference_mode():
            out = model.generate(
                **enc,
                do_sample=True,
                top_k=0,
                max_new_tokens=new_tokens,
                min_new_tokens=new_tokens,
                pad_token_id=tok.pad_token_id,
            )
        n += (out.shape[1] - enc["input_ids"].shape[1]) * out.shape[0]
    return n / (time.perf_counter() - start)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default=None)
    p.add_argument("--batched-prompts", type=int, default=256)
    p.add_argument("--loop-prompts", type=int, default=16)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--new-tokens", type=int, default=96)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model, tok, prompts, _ = toy_setup(a.model, a.batched_prompts)
    loop = tokens_per_second(model, tok, prompts[: a.loop_prompts], 1, a.new_tokens)
    batched = tokens_per_second(model, tok, prompts, a.batch_size, a.new_tokens)
    print(f"one at a time: {loop:8.0f} tokens/s ({a.loop_prompts} prompts)")
    print(f"batched ({a.batch_size}): {batched:8.0f} tokens/s ({a.batched_prompts} prompts)")
    print(f"ratio batched/loop: {batched / loop:.1f}x (goal >= 5x)")


if __name__ == "__main__":
    main()
