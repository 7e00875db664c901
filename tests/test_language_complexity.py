"""Complexity counting of BERT: binary linears, the binary matmuls of bi-attention, and the
same model counted alike at full precision (hand-worked counts, no unknown-layer warning)."""

from __future__ import annotations

import warnings

import pytest

from bibench_cli.binarize import BinarizePolicy, binarize
from bibench_cli.binarize.summary import count_complexity
from bibench_cli.models.bert import (
    BINARIZED_MODULES,
    KEEP,
    BertConfig,
    BertForSequenceClassification,
)
from bibench_cli.models.inputs import TokenInput

# hidden H = 8 in 2 heads of d = 4, 2 layers, T = 6 tokens, one example
CONFIG = BertConfig(
    vocab_size=20,
    hidden_size=8,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=16,
    max_position_embeddings=16,
)
T, H = 6, 8
ATTENTION_MACS = 2 * (2 * T * T * 4)  # QKᵀ and A·V, each heads · T · T · d


def _count(algo):
    model = BertForSequenceClassification(CONFIG, num_labels=2)
    example = TokenInput(T).example(1)
    policy = BinarizePolicy(False, False, declared=KEEP, replacements=BINARIZED_MODULES)
    binarize(model, algo, policy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every BERT layer type is known to the counter
        count = count_complexity(model, example)
    return count, {layer.name: layer for layer in count.layers}


def test_full_precision_bert_counts_attention_norms_and_embeddings():
    count, layers = _count("fp32")
    core = layers["bert.encoder.layer.0.attention.self.core"]
    assert (core.macs_float, core.macs_binary, core.precision) == (ATTENTION_MACS, 0, "32-bit")
    word = layers["bert.embeddings.word_embeddings"]
    assert (word.params_float, word.macs_float) == (20 * H, 0)  # a lookup: no FLOPs
    assert layers["bert.embeddings.LayerNorm"].macs_float == T * H  # the affine per element
    assert layers["bert.encoder.layer.1.intermediate.dense"].macs_float == T * H * 16
    assert layers["bert.pooler.dense"].macs_float == H * H  # the [CLS] token only
    assert count.macs_binary == 0


def test_binarized_bert_counts_bi_attention_matmuls_as_binary():
    fp32, _ = _count("fp32")
    count, layers = _count("bnn")
    core = layers["bert.encoder.layer.1.attention.self.core"]
    assert (core.type, core.params_binary, core.params_float) == ("BiAttention", 0, 0)
    assert (core.macs_binary, core.macs_float, core.precision) == (ATTENTION_MACS, 0, "1-bit")
    word = layers["bert.embeddings.word_embeddings"]
    assert (word.params_binary, word.params_extra, word.extra_flops) == (20 * H, 20, T * H)
    position = layers["bert.embeddings.position_embeddings"]
    assert (position.params_binary, position.params_float) == (0, 16 * H)
    classifier = layers["classifier"]
    assert (classifier.params_binary, classifier.macs_float) == (0, 2 * H)
    linears_per_layer = 4 * T * H * H + 2 * T * H * 16
    assert count.macs_binary == 2 * (linears_per_layer + ATTENTION_MACS) + H * H
    # the same model at full precision: what the FP32 run counts
    assert count.flops_fp32 == fp32.flops_fp32 and count.params_fp32 == fp32.params_fp32


@pytest.mark.parametrize("algo", ["xnor", "reactnet"])
def test_algorithms_with_extras_count_bi_attention_alike(algo):
    _, layers = _count(algo)
    core = layers["bert.encoder.layer.0.attention.self.core"]
    assert (core.macs_binary, core.params_extra, core.extra_flops) == (ATTENTION_MACS, 0, 0)
