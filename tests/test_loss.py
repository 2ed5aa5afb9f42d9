import math

import pytest
import torch

from o1pruner.train.loss import length_harmonizing_loss, sequence_mean_logprobs


def test_loss_is_minus_mean_advantage_at_ratio_one():
    logp = torch.tensor([-1.0, -2.0, -0.5])
    adv = torch.tensor([1.5, -0.5, 0.2])
    loss, stats = length_harmonizing_loss(logp.clone().requires_grad_(), logp, adv, 0.2)
    assert math.isclose(loss.item(), -adv.mean().item(), rel_tol=1e-6)
    assert stats["clip_ratio"].item() == 0.0


def test_loss_clips_like_ppo():
    eps = 0.2
    ref = torch.zeros(4)
    # ratios 1.5, 1.5, 0.5, 0.5 against advantages +1, -1, +1, -1
    policy = torch.log(torch.tensor([1.5, 1.5, 0.5, 0.5])).requires_grad_()
    adv = torch.tensor([1.0, -1.0, 1.0, -1.0])
    loss, stats = length_harmonizing_loss(policy, ref, adv, eps)
    # A>0, r=1.5: max(-1.5, -1.2) = -1.2 (clipped, no gradient)
    # A<0, r=1.5: max(1.5, 1.2) = 1.5 (unclipped: pushes r back down)
    # A>0, r=0.5: max(-0.5, -0.8) = -0.5 (unclipped: pushes r up)
    # A<0, r=0.5: max(0.5, 0.8) = 0.8 (clipped, no gradient)
    assert math.isclose(loss.item(), (-1.2 + 1.5 - 0.5 + 0.8) / 4, rel_tol=1e-6)
    loss.backward()
    g = policy.grad
    assert g[0].item() == 0.0 and g[3].item() == 0.0
    assert g[1].item() > 0 and g[2].item() < 0  # d/dlogp of (r * |A|) and (-r * A)
    assert math.isclose(stats["clip_ratio"].item(), 0.5)


def test_sequence_mean_logprobs_only_counts_response_tokens():
    vocab = 3
    # Uniform logits everywhere except the position predicting token 2 at index 2.
    logits = torch.zeros(1, 4, vocab)
    logits[0, 1, 2] = math.log(2.0)  # p(token 2) = 2/4 at position 1
    input_ids = torch.tensor([[0, 1, 2, 0]])
    response_mask = torch.tensor([[0, 0, 1, 1]])  # tokens at positions 2 and 3 are the response
    got = sequence_mean_logprobs(logits, input_ids, response_mask)
    expected = (math.log(0.5) + math.log(1 / 3)) / 2
    assert math.isclose(got.item(), expected, rel_tol=1e-6)


def _tiny_qwen2():
    from helpers import tiny_qwen2

    return tiny_qwen2(vocab_size=97, num_hidden_layers=2, max_position_embeddings=64).eval()


def _right_padded_batch():
    # Two rows: prompts of 5 and 3 tokens, responses of 3 and 4, right-padded to 8 with id 0.
    input_ids = torch.tensor([[5, 6, 7, 8, 9, 10, 11, 12], [13, 14, 15, 16, 17, 18, 19, 0]])
    attention_mask = torch.tensor([[1] * 8, [1] * 7 + [0]])
    response_mask = torch.tensor([[0, 0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1, 1, 0]])
    return input_ids, attention_mask, response_mask


def test_response_logits_start_one_before_the_earliest_response_token():
    from o1pruner.train.loss import response_logits_to_keep

    *_, response_mask = _right_padded_batch()
    assert response_logits_to_keep(response_mask) == 6  # positions 2..7: position 2 predicts token 3
    assert response_logits_to_keep(torch.zeros(1, 5, dtype=torch.long)) == 5


def test_response_logprobs_match_the_full_forward_pass_with_fewer_logits():
    from o1pruner.train.loss import response_mean_logprobs

    model = _tiny_qwen2()
    input_ids, attention_mask, response_mask = _right_padded_batch()
    widths = []
    model.lm_head.register_forward_hook(lambda _m, args, _out: widths.append(args[0].shape[1]))
    with torch.no_grad():
        full = sequence_mean_logprobs(
            model(input_ids=input_ids, attention_mask=attention_mask).logits, input_ids, response_mask
        )
        kept = response_mean_logprobs(model, input_ids, attention_mask, response_mask)
    assert widths == [8, 6]
    torch.testing.assert_close(kept, full)


def test_the_sequence_ratio_is_the_summed_log_prob_difference():
    """o1_pruner_paper's ratio pi(y|x)/pi_ref(y|x): the per-token mean difference times the
    response tokens, which moves far from 1 where the mean hardly moves (the released form)."""
    from o1pruner.train.o1_pruner import O1PrunerConfig, O1PrunerTrainer

    model = _tiny_qwen2()
    input_ids, attention_mask, response_mask = _right_padded_batch()
    with torch.no_grad():
        from o1pruner.train.loss import response_mean_logprobs

        policy = response_mean_logprobs(model, input_ids, attention_mask, response_mask)
    ref = policy - 0.1  # the policy is 0.1 nats per token likelier than the reference
    inputs = dict(input_ids=input_ids, attention_mask=attention_mask, response_mask=response_mask,
                  ref_logp=ref, advantage=torch.tensor([1.0, 1.0]))  # fmt: skip
    ratios = {}
    for form in ("token_mean", "sequence"):
        trainer = O1PrunerTrainer.__new__(O1PrunerTrainer)
        trainer.args = O1PrunerConfig(output_dir="/tmp/unused", ratio=form, report_to="none", use_cpu=True)
        from collections import defaultdict

        trainer._metrics = defaultdict(list)
        with torch.no_grad():
            trainer.compute_loss(model, inputs)
        ratios[form] = trainer._metrics["ratio"][-1]
    n_tokens = torch.tensor([3.0, 4.0])  # the response tokens of each row (response_mask[:, 1:])
    assert ratios["token_mean"] == pytest.approx(math.exp(0.1), rel=1e-5)
    assert ratios["sequence"] == pytest.approx(float(torch.exp(0.1 * n_tokens).mean()), rel=1e-5)
