"""The O1-Pruner loss as a pure function of tensors."""

from __future__ import annotations

import inspect

import torch


def sequence_mean_logprobs(logits: torch.Tensor, input_ids: torch.Tensor, response_mask: torch.Tensor) -> torch.Tensor:
    """Mean log-probability of the response tokens of each sequence.

    `response_mask[b, t]` marks the tokens at position t that belong to the response; the
    logits at t-1 predict them.
    """
    logprobs = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    token_logp = logprobs.gather(-1, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    mask = response_mask[:, 1:].to(token_logp.dtype)
    return (token_logp * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)


def response_logits_to_keep(response_mask: torch.Tensor) -> int:
    """How many final positions need logits: from the one before the batch's earliest response
    token to the end. At a real vocabulary (~150k) the prompt positions' logits are most of a
    forward pass's activation memory and, on hardware without fast bf16 matmuls, its time."""
    width = response_mask.shape[1]
    in_response = response_mask.bool().any(dim=0).nonzero()
    if len(in_response) == 0:
        return width
    return width - max(int(in_response[0]) - 1, 0)


def _accepts_logits_to_keep(model) -> bool:
    # Through DDP/DeepSpeed (`.module`) and PEFT wrappers to the model class's own forward.
    while hasattr(model, "module"):
        model = model.module
    if hasattr(model, "get_base_model"):
        model = model.get_base_model()
    return "logits_to_keep" in inspect.signature(model.forward).parameters


def response_mean_logprobs(
    model, input_ids: torch.Tensor, attention_mask: torch.Tensor, response_mask: torch.Tensor
) -> torch.Tensor:
    """`sequence_mean_logprobs` of `model`'s forward pass, computing logits only where a response
    token is predicted (transformers' `logits_to_keep`, where the model class takes it)."""
    keep = response_logits_to_keep(response_mask)
    extra = {"logits_to_keep": keep} if keep < input_ids.shape[1] and _accepts_logits_to_keep(model) else {}
    logits = model(input_ids=input_ids, attention_mask=attention_mask, **extra).logits
    kept = logits.shape[1]
    return sequence_mean_logprobs(logits, input_ids[:, -kept:], response_mask[:, -kept:])


def length_harmonizing_loss(
    policy_mean_logp: torch.Tensor, ref_mean_logp: torch.Tensor, advantages: torch.Tensor, epsilon: float = 0.2
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Off-policy PPO-clip surrogate of O1-Pruner (Eq. 5 of the paper, as released).

        r(y) = exp(mean_t log pi(y_t) - mean_t log pi_ref(y_t))
        L = mean_y max(-A(y) r(y), -A(y) clip(r(y), 1 - epsilon, 1 + epsilon))

    The samples come from the frozen reference, so r = 1 at the start and -mean(A) is the
    first loss; the clip stops the policy moving further once r leaves [1-eps, 1+eps] in the
    direction A favours. Returns the loss and diagnostics.
    """
    ratio = torch.exp(policy_mean_logp - ref_mean_logp)
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1.0 - epsilon, 1.0 + epsilon)
    loss = torch.maximum(unclipped, clipped).mean()
    with torch.no_grad():
        clip_fraction = (clipped > unclipped).float().mean()
    return loss, {"ratio": ratio.detach().mean(), "clip_ratio": clip_fraction}
