"""Batched generation: end-of-turn trimming and halving a batch that runs out of memory."""

import logging

import torch

from o1pruner.sampling.decoding import Decoding
from o1pruner.sampling.hf_backend import generate


class FakeTokenizer:
    eos_token_id, pad_token_id, padding_side = 2, 0, "left"

    def __call__(self, batch, **_):
        ids = torch.tensor([[5, 6]] * len(batch))
        return _Enc(input_ids=ids, attention_mask=torch.ones_like(ids))

    def decode(self, ids, skip_special_tokens=True):
        return " ".join(str(i) for i in ids if not (skip_special_tokens and i in (0, 2)))


class _Enc(dict):
    def to(self, device):
        return self


class FakeModel(torch.nn.Module):
    """Echoes [7, 2] (a token, then end of turn); fails with OOM on batches of more than 2."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.generation_config = type("G", (), {"eos_token_id": 2})()
        self.calls = []

    def generate(self, input_ids, attention_mask, num_return_sequences, **_):
        self.calls.append(input_ids.shape[0])
        if input_ids.shape[0] > 2:
            raise torch.OutOfMemoryError("fake")
        n = input_ids.shape[0] * num_return_sequences
        tail = torch.tensor([[7, 2, 0]] * n)
        return torch.cat([input_ids.repeat_interleave(num_return_sequences, 0), tail], dim=1)


def test_out_of_memory_halves_the_batch_and_keeps_order(caplog):
    model = FakeModel()
    with caplog.at_level(logging.WARNING):
        out = generate(model, FakeTokenizer(), [f"p{i}" for i in range(4)], Decoding(), batch_size=4, progress=False)
    assert model.calls == [4, 2, 2]
    assert "halving to 2" in caplog.text
    assert len(out) == 4 and all(g[0].token_ids == [7, 2] and not g[0].truncated for g in out)
