import pytest

from o1pruner.aes import aes_formula, aes_published


def test_aes_forms_agree_when_accuracy_rises_and_differ_when_it_falls():
    # Marco-o1 O1-Pruner on MATH (Table 2): 73.8 -> 77.5, 1156 -> 657 tokens: AES 0.58.
    assert aes_published(77.5, 657, 73.8, 1156) == pytest.approx(0.58, abs=0.01)
    assert aes_formula(77.5, 657, 73.8, 1156) == pytest.approx(0.58, abs=0.01)
    # Marco-o1 fast prompt on MATH: 73.8 -> 71.0, 1156 -> 1113: published 0.15, formula -0.15.
    assert aes_published(71.0, 1113, 73.8, 1156) == pytest.approx(0.15, abs=0.01)
    assert aes_formula(71.0, 1113, 73.8, 1156) == pytest.approx(-0.15, abs=0.01)
