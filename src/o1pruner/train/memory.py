"""Expected per-GPU memory of a training job, before it is started.

Counts, per GPU, in bytes per parameter (AdamW), by how the weights are held (`precision`):
- `bf16` (DeepSpeed ZeRO / FSDP mixed precision, the paper configs): bf16 weights (2; frozen
  ones too), bf16 gradients (2 per trainable parameter), and an fp32 master copy with Adam's m
  and v (12 per trainable parameter).
- `autocast` (one process or DDP with training.bf16: torch autocast over fp32 weights): fp32
  weights (4), fp32 gradients (4), Adam's m and v (8), and autocast's bf16 copy of every weight
  a forward pass casts (2, freed after the step), counted with the weights.
- `pure_bf16` (training.pure_bf16): weights, gradients and Adam's m and v all bf16 (2 + 2 + 4).
ZeRO-2 splits gradients and optimiser state over the GPUs, ZeRO-3 (and FSDP full sharding) the
weights as well; DDP keeps everything on every GPU (Rajbhandari et al., ZeRO, 2020).
- activations of one micro-batch: with gradient checkpointing the input of each decoder layer
  (2·s·b·h bytes) plus one layer recomputed in full; without, every layer in full. One layer's
  activations are taken as 34·s·b·h bytes (Korthikanti et al. 2022, without the attention
  score matrix, which sdpa/flash attention never store), with h the hidden size, and the MLP
  term scaled by intermediate_size / 4h.
- logits: s·b·V·4 bytes for the fp32 logits and as much again for their gradient (a bound:
  O1-Pruner's loss and the reference log-probs compute them from the first response token on).
- buffers (DeepSpeed ZeRO, at DeepSpeed's defaults, which the shipped accelerate configs keep):
  the gradient bucket each rank allocates whole (`reduce_bucket_size`, 5e8 elements,
  in the communication dtype), the fp32 copy of the gradient partition the optimiser step makes
  (at most `sub_group_size`, 1e9 elements, at a time) and, under ZeRO-3, the parameters gathered
  for the layer at work: the largest matrix (the vocabulary's) and the prefetch bucket (5e7).
It leaves out the CUDA context and allocator fragmentation: keep 10-20% of the card free.
benchmarks/real_dimensions.py holds it against measured peaks.
"""

from __future__ import annotations

from dataclasses import dataclass

GB = 1024**3
# DeepSpeed's ZeRO defaults (deepspeed/runtime/zero/config.py), in elements.
ZERO_REDUCE_BUCKET = 500_000_000
ZERO_SUB_GROUP = 1_000_000_000
ZERO3_PREFETCH_BUCKET = 50_000_000
# (weights, gradients, optimiser state) bytes per parameter, by `precision`
BYTES_PER_PARAMETER = {"bf16": (2, 2, 12), "autocast": (4, 4, 8), "pure_bf16": (2, 2, 4)}


@dataclass(frozen=True)
class Architecture:
    """The few numbers of a decoder-only model's config.json that memory depends on."""

    num_layers: int
    hidden_size: int
    intermediate_size: int
    num_heads: int
    num_kv_heads: int
    vocab_size: int
    tie_word_embeddings: bool = False

    @classmethod
    def from_config(cls, cfg: dict) -> Architecture:
        return cls(
            num_layers=cfg["num_hidden_layers"],
            hidden_size=cfg["hidden_size"],
            intermediate_size=cfg["intermediate_size"],
            num_heads=cfg["num_attention_heads"],
            num_kv_heads=cfg.get("num_key_value_heads", cfg["num_attention_heads"]),
            vocab_size=cfg["vocab_size"],
            tie_word_embeddings=cfg.get("tie_word_embeddings", False),
        )

    def layer_params(self) -> int:
        h, kv = self.hidden_size, self.hidden_size // self.num_heads * self.num_kv_heads
        attention = 2 * h * h + 2 * h * kv + h + 2 * kv  # q, o; k, v; q/k/v biases (Qwen2)
        return attention + 3 * h * self.intermediate_size + 2 * h  # gate, up, down; two norms

    def params(self) -> int:
        embeddings = self.vocab_size * self.hidden_size * (1 if self.tie_word_embeddings else 2)
        return self.num_layers * self.layer_params() + embeddings + self.hidden_size


def training_memory(
    arch: Architecture,
    *,
    seq_len: int,
    micro_batch: int,
    gpus: int,
    sharding: str,
    gradient_checkpointing: bool,
    trainable_layers: int | None = None,
    precision: str | None = None,
) -> dict[str, float]:
    """GB per GPU by component, and `total`. `trainable_layers`: only the last N decoder layers
    train (embeddings and head frozen); None: every parameter trains. `precision`: `autocast`,
    `bf16` or `pure_bf16` (module docstring); None: what the workflow runs with training.bf16,
    autocast under DDP, bf16 under ZeRO and FSDP."""
    if sharding not in ("ddp", "zero2", "zero3", "fsdp"):
        raise ValueError(f"unknown sharding {sharding!r}")
    precision = precision or ("autocast" if sharding == "ddp" else "bf16")
    if precision not in BYTES_PER_PARAMETER:
        raise ValueError(f"unknown precision {precision!r}")
    weight_bytes, gradient_bytes, optimizer_bytes = BYTES_PER_PARAMETER[precision]
    params = arch.params()
    trainable = params if trainable_layers is None else trainable_layers * arch.layer_params()
    shard_weights = gpus if sharding in ("zero3", "fsdp") else 1
    shard_states = gpus if sharding in ("zero2", "zero3", "fsdp") else 1
    s, b, h = seq_len, micro_batch, arch.hidden_size
    layer_activations = s * b * h * (10 + 24 * arch.intermediate_size / (4 * h))  # 34·s·b·h at i = 4h
    if gradient_checkpointing:
        activations = arch.num_layers * 2 * s * b * h + layer_activations
    else:
        activations = arch.num_layers * layer_activations
    autocast_copies = 2 * params if precision == "autocast" else 0  # unsharded: DDP only
    buffers = 0.0
    if sharding in ("zero2", "zero3"):
        master_bytes = 2 if precision == "pure_bf16" else 4  # the master weights' dtype
        buffers = gradient_bytes * ZERO_REDUCE_BUCKET + master_bytes * min(trainable / shard_states, ZERO_SUB_GROUP)
        if sharding == "zero3":
            buffers += weight_bytes * (arch.vocab_size * h + ZERO3_PREFETCH_BUCKET)
    parts = {
        "weights": weight_bytes * params / shard_weights + autocast_copies,
        "gradients": gradient_bytes * trainable / shard_states,
        "optimizer": optimizer_bytes * trainable / shard_states,
        "activations": activations,
        "logits": 2 * 4 * s * b * arch.vocab_size,
        "buffers": buffers,
    }
    out = {k: v / GB for k, v in parts.items()}
    out["total"] = sum(out.values())
    return out


# The paper's two models (their config.json; Marco-o1 is Qwen2-7B-Instruct-shaped, QwQ-32B-Preview
# Qwen2.5-32B-shaped).
MARCO_O1_7B = Architecture(28, 3584, 18944, 28, 4, 152064)
QWQ_32B = Architecture(64, 5120, 27648, 40, 8, 152064)
