"""A byte-level BPE tokenizer for the toy world that reloads exactly through `AutoTokenizer`.

With transformers 5, `AutoTokenizer` on a folder whose config says `qwen2` rebuilds the
tokenizer as `Qwen2Tokenizer` from the saved vocab and merges, with Qwen2's own normaliser and
pre-tokenizer, whatever tokenizer.json says. A tokenizer trained with any other pre-tokenizer
silently changes its ids on reload. So the BPE is trained with exactly Qwen2's components and
wrapped in `Qwen2Tokenizer` before saving: what is saved is what reloading builds.
"""

from __future__ import annotations

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import Qwen2Tokenizer
from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

from .tasks import THINK_CLOSE, THINK_OPEN

IM_START, IM_END, PAD = "<|im_start|>", "<|im_end|>", "<|endoftext|>"
# The thinking markers (toy.thinking) are added tokens that are not special, so responses decode
# with them, as R1-Distill-Qwen's do.


def chat_template(thinking: bool = False) -> str:
    """Qwen2.5's chat template, reduced to what the workflow uses (no tools); with `thinking`,
    the generation prompt opens the thinking block, as DeepSeek-R1-Distill-Qwen's does."""
    opening = f"<|im_start|>assistant\\n{THINK_OPEN}\\n" if thinking else "<|im_start|>assistant\\n"
    return (
        "{%- for message in messages %}"
        "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
        "{%- endfor %}"
        f"{{%- if add_generation_prompt %}}{{{{- '{opening}' }}}}{{%- endif %}}"
    )


def train_tokenizer(texts: list[str], vocab_size: int, thinking: bool = False) -> Qwen2Tokenizer:
    bpe = Tokenizer(models.BPE())
    bpe.normalizer = normalizers.NFC()
    bpe.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD, IM_START, IM_END],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(texts, trainer=trainer)
    state = bpe.model
    vocab = bpe.get_vocab()
    merges = _merges_of(bpe)
    del state
    tok = Qwen2Tokenizer(
        vocab=vocab,
        merges=merges,
        unk_token=None,
        eos_token=IM_END,
        pad_token=PAD,
        additional_special_tokens=[IM_START, IM_END],
    )
    if thinking:
        tok.add_tokens([THINK_OPEN, THINK_CLOSE])
    tok.chat_template = chat_template(thinking)
    return tok


def _merges_of(bpe: Tokenizer) -> list[tuple[str, str]]:
    import json

    model = json.loads(bpe.to_str())["model"]
    return [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
