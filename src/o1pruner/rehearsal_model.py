"""The rehearsal's reference model: a tiny model of the real model's architecture family with
the real tokenizer and chat template, briefly trained on the training split's gold answers.

A randomly initialised model answers nothing right, so no trainer would get data. Trained a few
hundred steps on the very problems pre-sampling draws from (their gold answers, in the real chat
format, after a reasoning prefix of several lengths taken from the gold solution), it samples
right answers of different lengths there, which is all a rehearsal needs: every rule gets real
data, nothing claims the model can solve anything.

The tokenizer files are copied byte for byte from `tokenizer` (never re-saved), so the ids are
the real model's; the architecture is the folder's `config.json` with the sizes replaced.
"""

from __future__ import annotations

import json
import logging
import math
import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from .console import Progress
from .io import InputError, atomic_path, read_jsonl
from .train.data import encode_examples

log = logging.getLogger(__name__)
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.json",
    "merges.txt",
    "generation_config.json",
)


@dataclass(frozen=True)
class RehearsalModelSettings:
    tokenizer: str
    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    steps: int
    learning_rate: float
    batch_size: int
    thinking_tokens: list
    max_positions: int
    dtype: str
    system_prompt: str | None
    thinking_end: str | None
    seed: int

    @classmethod
    def from_json(cls, value: dict) -> RehearsalModelSettings:
        missing = sorted(set(cls.__dataclass_fields__) - set(value))
        unknown = sorted(set(value) - set(cls.__dataclass_fields__))
        if missing or unknown:
            raise InputError(f"--settings: missing {missing}, unknown {unknown} for RehearsalModelSettings")
        return cls(**value)


def gold_response(tokenizer, row: dict, thinking_tokens: int, thinking_end: str | None) -> list[int]:
    """Response ids: the first `thinking_tokens` tokens of the gold solution (or of the problem),
    the thinking block closed where the model has one, then the boxed gold answer and the end."""
    text = row.get("solution") or row["problem"]
    prefix = tokenizer.decode(tokenizer(text, add_special_tokens=False).input_ids[:thinking_tokens])
    close = f"\n{thinking_end}\n\n" if thinking_end else "\n"
    answer = f"The answer is $\\boxed{{{row['answer']}}}$."
    return tokenizer(prefix + close + answer, add_special_tokens=False).input_ids + [tokenizer.eos_token_id]


def family_config(source: Path, key: str, **sizes):
    """The config.json of `source` (a model folder without weights: the architecture family and
    its tokenizer, named by config `key` in errors) with `sizes` put in, every layer full
    attention. Shared by the rehearsal model and the real-dimension models (real_dims.py)."""
    from transformers import AutoConfig

    if not (source / "config.json").is_file() or not (source / "tokenizer.json").is_file():
        named = f"{key} {source}" if key else str(source)
        raise InputError(f"{named}: needs config.json and tokenizer.json (a model folder without weights)")
    config = AutoConfig.from_pretrained(source)
    layers = sizes["num_hidden_layers"]
    config.update({**sizes, "max_window_layers": layers, "use_sliding_window": False})
    if hasattr(config, "layer_types"):
        config.layer_types = ["full_attention"] * layers
    return config


def build_rehearsal_model(settings: RehearsalModelSettings, problems_path: str, out: str, threads: int | None = None):
    """Make, train and save the tiny model into `out` (atomically): tokenizer files copied as they are."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if threads:
        torch.set_num_threads(threads)
    source = Path(settings.tokenizer)
    config = family_config(
        source,
        "rehearsal.tokenizer",
        hidden_size=settings.hidden_size,
        intermediate_size=settings.intermediate_size,
        num_hidden_layers=settings.num_layers,
        num_attention_heads=settings.num_heads,
        num_key_value_heads=settings.num_kv_heads,
        max_position_embeddings=settings.max_positions,
        tie_word_embeddings=True,
        dtype="float32",
    )
    tokenizer = AutoTokenizer.from_pretrained(source)
    rows = read_jsonl(problems_path)
    rng = random.Random(settings.seed)
    examples = [(row, n) for row in rows for n in settings.thinking_tokens]
    problems = [row["problem"] for row, _ in examples]
    responses = [gold_response(tokenizer, row, n, settings.thinking_end) for row, n in examples]
    encoded = encode_examples(tokenizer, problems, responses, settings.system_prompt, settings.max_positions)

    torch.manual_seed(settings.seed)
    model = AutoModelForCausalLM.from_config(config)
    log.info(
        "rehearsal model: %s, %d parameters, %d training problems x %d reasoning lengths",
        type(model).__name__, sum(p.numel() for p in model.parameters()), len(rows), len(settings.thinking_tokens),
    )  # fmt: skip
    _train(model, encoded, tokenizer.pad_token_id, settings, rng)
    accuracy = _greedy_accuracy(model, tokenizer, rows, settings)
    log.info("greedy accuracy on the training problems after %d steps: %.0f%%", settings.steps, 100 * accuracy)
    if settings.dtype in ("bfloat16", "float16"):  # as the real checkpoint is stored ("auto": as trained)
        model.to(getattr(torch, settings.dtype))
    with atomic_path(out, is_dir=True) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        for name in TOKENIZER_FILES:
            if (source / name).is_file():
                shutil.copy2(source / name, Path(tmp) / name)
        (Path(tmp) / "o1pruner_rehearsal.json").write_text(
            json.dumps(
                {"tokenizer_from": str(source), "train_accuracy_greedy": accuracy, **settings.__dict__}, indent=1
            )
        )
    return accuracy


def _train(model, encoded: list[dict], pad_id: int, s: RehearsalModelSettings, rng: random.Random) -> None:
    """AdamW on response tokens only; the output layer is applied to those positions alone, since
    the real vocabulary (~152k) would make full logits most of the cost."""
    opt = torch.optim.AdamW(model.parameters(), lr=s.learning_rate, betas=(0.9, 0.95), weight_decay=0.0)
    warmup = max(1, s.steps // 10)
    model.train()
    bar = Progress(range(s.steps), desc="train rehearsal model", mininterval=10)
    start = time.time()
    order: list[int] = []
    for step in bar:
        if len(order) < s.batch_size:
            order += rng.sample(range(len(encoded)), len(encoded))
        batch, order = [encoded[i] for i in order[: s.batch_size]], order[s.batch_size :]
        width = max(len(b["input_ids"]) for b in batch)
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.bool)
        attention = torch.zeros((len(batch), width), dtype=torch.long)
        for i, b in enumerate(batch):
            ids[i, : len(b["input_ids"])] = torch.tensor(b["input_ids"])
            mask[i, : len(b["response_mask"])] = torch.tensor(b["response_mask"], dtype=torch.bool)
            attention[i, : len(b["input_ids"])] = 1
        lr = s.learning_rate * min(1.0, (step + 1) / warmup) * (0.55 + 0.45 * math.cos(math.pi * step / s.steps))
        for group in opt.param_groups:
            group["lr"] = lr
        hidden = model.model(input_ids=ids, attention_mask=attention).last_hidden_state
        predicts = mask[:, 1:]  # position t predicts token t+1
        logits = model.lm_head(hidden[:, :-1][predicts])
        loss = torch.nn.functional.cross_entropy(logits, ids[:, 1:][predicts])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        if step % 25 == 0 or step == s.steps - 1:
            bar.set_postfix(loss=f"{loss.item():.3f}")
            log.info("step %d loss %.4f lr %.2e (%.0f s)", step, loss.item(), lr, time.time() - start)
    model.eval()


def _greedy_accuracy(model, tokenizer, rows: list[dict], s: RehearsalModelSettings) -> float:
    """Share of the training problems whose greedy answer is right (the log says how far it got)."""
    from .grading import grade
    from .prompt import render_prompt

    right = 0
    tokenizer.padding_side = "left"
    prompts = [render_prompt(tokenizer, row["problem"], s.system_prompt) for row in rows]
    with torch.no_grad():
        for i in range(0, len(rows), 16):
            batch = tokenizer(prompts[i : i + 16], return_tensors="pt", padding=True, add_special_tokens=False)
            out = model.generate(
                **batch,
                max_new_tokens=max(s.thinking_tokens) + 32,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
            )
            texts = tokenizer.batch_decode(out[:, batch.input_ids.shape[1] :], skip_special_tokens=True)
            right += sum(grade(t, row["answer"]).correct for t, row in zip(texts, rows[i : i + 16]))
    return right / len(rows)
