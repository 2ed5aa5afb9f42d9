"""The O1-Pruner loss as a pure function of tensors."""

from __future__ import annotations

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
