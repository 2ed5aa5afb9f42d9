"""Train the toy reference model from scratch (nanoGPT-style loop) and save it like a hub model.

The result is a folder that `AutoTokenizer` / `AutoModelForCausalLM` load exactly as they load
Marco-o1 or QwQ: config.json, model.safetensors, tokenizer files with a chat template.
"""

from __future__ import annotations

import logging
import math
import random
import time
from dataclasses import dataclass

import torch

from ..console import Progress
from ..prompt import build_messages, render_prompt
from .model import make_toy_model
from .tasks import (
    THINK_CLOSE,
    THINK_OPEN,
    Level,
    make_problem,
    with_thinking_block,
    write_estimate_check_solution,
    write_solution,
)
from .tokenizer import IM_END, IM_START, chat_template, train_tokenizer

log = logging.getLogger(__name__)


@dataclass
class PretrainSettings:
    seed: int = 0
    long_thought_fraction: float = 0.7
    check_prob: float = 0.7
    solution_style: str = "restate"
    estimate_error: tuple[float, ...] = ()  # per level; `estimate_check` style only
    fast_prompt_fraction: float = 0.0
    thinking: bool = False  # solutions in a thinking block (chat template opens it)
    vocab_size: int = 1024
    hidden_size: int = 256
    num_layers: int = 4
    num_heads: int = 4
    num_kv_heads: int = 2
    intermediate_size: int = 768
    max_positions: int = 512
    steps: int = 3000
    batch_size: int = 32
    lr: float = 2e-3
    warmup_steps: int = 100
    weight_decay: float = 0.1
    time_limit_s: float | None = None


def _examples(rng: random.Random, levels: list[Level], n: int, exclude: set[str], s: PretrainSettings):
    """(problem, solution, fast) triples. With `fast_prompt_fraction` > 0 that share of the
    examples carries the fast-solving instruction and a concise solution, so the fast-prompt
    control has a behaviour to follow; the default stream of random draws is unchanged."""
    out = []
    while len(out) < n:
        level = rng.randint(1, len(levels))
        p = make_problem(rng, level, levels[level - 1])
        if p["problem"] in exclude:
            continue
        fast = s.fast_prompt_fraction > 0 and rng.random() < s.fast_prompt_fraction
        long_thought = not fast and rng.random() < s.long_thought_fraction
        if s.solution_style == "estimate_check":
            solution = write_estimate_check_solution(rng, p, long_thought, s.check_prob, s.estimate_error[level - 1])
        else:
            solution = write_solution(rng, p, long_thought, s.check_prob)
        if s.thinking:
            solution = with_thinking_block(solution, THINK_CLOSE)
        out.append((p["problem"], solution, fast))
    return out


def pretrain_reference(
    out_dir: str,
    levels: list[Level],
    exclude_problems: set[str],
    system_prompt: str | None,
    s: PretrainSettings,
    threads: int | None = None,
):
    """Train tokenizer and model on fresh problems (never the excluded test problems); save both."""
    if threads:
        torch.set_num_threads(threads)
    rng = random.Random(s.seed)
    n_examples = s.steps * s.batch_size
    examples = _examples(rng, levels, n_examples, exclude_problems, s)
    corpus = [q for q, _, _ in examples[:3000]] + [a for _, a, _ in examples[:3000]]
    with_fast = (False, True) if s.fast_prompt_fraction > 0 else (False,)
    template_words = [chat_words(system_prompt, examples[0][0], fast, s.thinking) for fast in with_fast]
    tokenizer = train_tokenizer(corpus + template_words, s.vocab_size, s.thinking)
    eos = tokenizer.eos_token
    prompts = [render_prompt(tokenizer, q, system_prompt, fast=fast) for q, _, fast in examples]
    prompt_ids = tokenizer(prompts, add_special_tokens=False).input_ids
    answer_ids = tokenizer([a + eos for _, a, _ in examples], add_special_tokens=False).input_ids
    model = make_toy_model(
        tokenizer,
        s.hidden_size,
        s.num_layers,
        s.num_heads,
        s.num_kv_heads,
        s.intermediate_size,
        s.max_positions,
        s.seed,
    )
    n_params = sum(p.numel() for p in model.parameters())
    log.info("toy reference: %d parameters, vocabulary %d, %d training examples", n_params, len(tokenizer), n_examples)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": s.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=s.lr,
        betas=(0.9, 0.95),
    )

    def lr_at(step: int) -> float:
        if step < s.warmup_steps:
            return s.lr * (step + 1) / s.warmup_steps
        progress = (step - s.warmup_steps) / max(1, s.steps - s.warmup_steps)
        return s.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))

    model.train()
    start = time.time()
    n_tokens = 0
    bar = Progress(range(s.steps), desc="pretrain toy reference", mininterval=10)
    for step in bar:
        batch = range(step * s.batch_size, (step + 1) * s.batch_size)
        input_ids, labels = _collate(
            [prompt_ids[i] for i in batch], [answer_ids[i] for i in batch], tokenizer.pad_token_id
        )
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        loss = model(
            input_ids=input_ids, attention_mask=(labels != -100) | (input_ids != tokenizer.pad_token_id), labels=labels
        ).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        n_tokens += int(input_ids.numel())
        if step % 50 == 0:
            bar.set_postfix(loss=f"{loss.item():.4f}", tok_s=f"{n_tokens / (time.time() - start):.0f}")
            log.info(
                "step %d loss %.4f lr %.2e %.0f tokens/s",
                step,
                loss.item(),
                lr_at(step),
                n_tokens / (time.time() - start),
            )
        if s.time_limit_s and time.time() - start > s.time_limit_s:
            log.info("time limit reached at step %d", step)
            break
    model.eval()
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    return model, tokenizer


def chat_words(system_prompt: str | None, problem: str, fast: bool = False, thinking: bool = False) -> str:
    """The chat template's words (roles, the fast-solving instruction) around one problem, without
    its special markers: they must be in the tokenizer's training text. Rendered from the one
    prompt definition (`prompt.build_messages`) through the toy's chat template itself."""
    from jinja2 import Template

    messages = build_messages(problem, system_prompt, fast)
    text = Template(chat_template(thinking)).render(messages=messages, add_generation_prompt=True)
    for marker in (IM_START, IM_END, THINK_OPEN, THINK_CLOSE):
        text = text.replace(marker, "")
    return text


def _collate(prompts: list[list[int]], answers: list[list[int]], pad_id: int):
    seqs = [p + a for p, a in zip(prompts, answers)]
    width = max(len(x) for x in seqs)
    input_ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    labels = torch.full((len(seqs), width), -100, dtype=torch.long)
    for i, (p, a) in enumerate(zip(prompts, answers)):
        input_ids[i, : len(p) + len(a)] = torch.tensor(p + a)
        labels[i, len(p) : len(p) + len(a)] = torch.tensor(a)
    return input_ids, labels
