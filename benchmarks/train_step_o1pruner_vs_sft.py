"""One O1-Pruner training step vs one plain SFT step on the same batch: time ratio.

The O1-Pruner step uses reference log-probs computed once beforehand (as the workflow does),
so it needs no second model. Goal: ratio <= 1.1x, in fp32 and in bf16 mixed precision (fp32
weights, bf16 autocast: what `training.bf16` runs).

    python benchmarks/train_step_o1pruner_vs_sft.py [--model PATH] [--bf16]
"""

import argparse
import random
import statistics
import time

import torch
from _toy import SYSTEM, toy_setup

from o1pruner.toy.tasks import write_solution
from o1pruner.train.data import PaddingCollator, encode_examples
from o1pruner.train.logprobs import mean_logprobs
from o1pruner.train.loss import length_harmonizing_loss, sequence_mean_logprobs


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default=None)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--bf16", action="store_true", help="bf16 autocast over fp32 weights")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    model, tok, _, train = toy_setup(a.model, 8)
    rng = random.Random(0)
    rows = train[: a.batch_size]
    responses = [
        tok(write_solution(rng, r["worked"], True, 0.7) + tok.eos_token, add_special_tokens=False).input_ids
        for r in rows
    ]
    examples = encode_examples(tok, [r["problem"] for r in rows], responses, SYSTEM, 512)
    ref = mean_logprobs(model, examples, tok.pad_token_id, a.batch_size)
    for ex, r in zip(examples, ref):
        ex["ref_logp"], ex["advantage"] = r, rng.gauss(0, 1)
    batch = PaddingCollator(tok.pad_token_id)(examples)
    labels = batch["input_ids"].masked_fill(batch["response_mask"] == 0, -100)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-6)
    model.train()

    device = next(model.parameters()).device.type

    def autocast():
        return torch.autocast(device, dtype=torch.bfloat16, enabled=a.bf16)

    def sft_step():
        with autocast():
            loss = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad()

    def o1_step():
        with autocast():
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        logp = sequence_mean_logprobs(logits.float(), batch["input_ids"], batch["response_mask"])
        loss, _ = length_harmonizing_loss(logp, batch["ref_logp"], batch["advantage"], 0.2)
        loss.backward()
        opt.step()
        opt.zero_grad()

    times = {"sft": [], "o1_pruner": []}
    for _ in range(2):
        sft_step(), o1_step()  # warm-up
    for _ in range(a.repeats):  # interleaved, so drifts in machine load hit both alike
        for name, step in (("sft", sft_step), ("o1_pruner", o1_step)):
            t = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - t)
    sft, o1 = statistics.median(times["sft"]), statistics.median(times["o1_pruner"])
    print(f"precision: {'bf16 autocast over fp32 weights' if a.bf16 else 'fp32'}")
    print(f"SFT step:       {1000 * sft:7.1f} ms (median of {a.repeats})")
    print(f"O1-Pruner step: {1000 * o1:7.1f} ms (median of {a.repeats})")
    print(f"ratio O1-Pruner/SFT: {o1 / sft:.2f}x (goal <= 1.1x)")


if __name__ == "__main__":
    main()
