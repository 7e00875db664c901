"""Our BERT against transformers' (the reference, test-only): outputs, checkpoints, layout."""

from __future__ import annotations

import json

import pytest
import torch
import transformers

from bibench_cli.binarize import BinarizePolicy, binarize
from bibench_cli.models.bert import (
    BERT_CONFIGS,
    BINARIZED_MODULES,
    KEEP,
    BertConfig,
    BertForSequenceClassification,
    BertModel,
    CheckpointError,
    CheckpointNotFoundError,
    build_bert,
    load_bert_classifier,
    save_bert_checkpoint,
)

TINY = {
    "vocab_size": 60,
    "hidden_size": 24,
    "num_hidden_layers": 3,
    "num_attention_heads": 4,
    "intermediate_size": 40,
    "max_position_embeddings": 32,
}


def _inputs():
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1, 60, (3, 12), generator=g)
    types = torch.randint(0, 2, (3, 12), generator=g)
    mask = torch.ones(3, 12, dtype=torch.long)
    mask[1, 7:] = 0
    mask[2, 2:] = 0
    return ids, types, mask


def _hf_checkpoint(tmp_path, hf_class, **config):
    torch.manual_seed(0)
    hf = hf_class(transformers.BertConfig(**TINY, **config)).eval()
    hf.save_pretrained(tmp_path)
    (tmp_path / "vocab.txt").write_text("\n".join(f"t{i}" for i in range(60)) + "\n")
    return hf


def test_encoder_matches_transformers_bert_model(tmp_path):
    hf = _hf_checkpoint(tmp_path, transformers.BertModel)
    loaded = load_bert_classifier(tmp_path, num_labels=2)
    assert loaded.initialised == ["classifier.weight", "classifier.bias"]
    assert loaded.ignored == []
    ours = loaded.model.eval()
    ids, types, mask = _inputs()
    query_outputs = []
    hook = hf.encoder.layer[1].attention.self.query.register_forward_hook(
        lambda module, args, out: query_outputs.append(out)
    )
    with torch.no_grad():
        expected = hf(
            input_ids=ids, token_type_ids=types, attention_mask=mask, output_hidden_states=True
        )
        sequence, pooled = ours.bert(ids, types, mask)
        _, internals = ours.forward_with_internals(ids, types, mask)
    hook.remove()
    torch.testing.assert_close(sequence, expected.last_hidden_state, atol=1e-5, rtol=0)
    torch.testing.assert_close(pooled, expected.pooler_output, atol=1e-5, rtol=0)
    assert len(internals.hidden_states) == len(expected.hidden_states) == 4
    for got, want in zip(internals.hidden_states, expected.hidden_states, strict=True):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=0)
    heads = query_outputs[0].unflatten(-1, (4, 6)).transpose(1, 2)  # (B, heads, T, d)
    torch.testing.assert_close(internals.qkv[1].query, heads, atol=1e-6, rtol=0)


@pytest.mark.parametrize("num_labels", [3, 1])
def test_classifier_matches_transformers(tmp_path, num_labels):
    hf = _hf_checkpoint(tmp_path, transformers.BertForSequenceClassification, num_labels=num_labels)
    loaded = load_bert_classifier(tmp_path, num_labels=num_labels)
    assert loaded.initialised == [] and loaded.ignored == []
    ids, types, mask = _inputs()
    with torch.no_grad():
        expected = hf(input_ids=ids, token_type_ids=types, attention_mask=mask).logits
        got = loaded.model.eval()(ids, types, mask)
    assert got.shape == (3, num_labels)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


def test_loads_legacy_gamma_beta_pytorch_model_bin(tmp_path):
    """Google/TinyBERT-era checkpoints: gamma/beta LayerNorm names, position_ids buffer,
    pre-training heads, extra config keys."""
    hf = _hf_checkpoint(tmp_path, transformers.BertForSequenceClassification, num_labels=2)
    (tmp_path / "model.safetensors").unlink()
    legacy = {}
    for key, value in hf.state_dict().items():
        if "LayerNorm" in key:
            key = key.replace(".weight", ".gamma").replace(".bias", ".beta")
        legacy[key] = value.clone()
    legacy["bert.embeddings.position_ids"] = torch.arange(32)[None]
    legacy["cls.predictions.bias"] = torch.zeros(60)
    assert any(k.endswith("LayerNorm.gamma") for k in legacy)
    torch.save(legacy, tmp_path / "pytorch_model.bin")
    config = {
        **TINY,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "emb_size": 24,
        "structure": [],
        "type_vocab_size": 2,
        "initializer_range": 0.02,
    }
    (tmp_path / "config.json").write_text(json.dumps(config))

    loaded = load_bert_classifier(tmp_path, num_labels=2)
    assert loaded.ignored == ["cls.predictions.bias"]
    ids, types, mask = _inputs()
    with torch.no_grad():
        expected = hf(input_ids=ids, token_type_ids=types, attention_mask=mask).logits
        got = loaded.model.eval()(ids, types, mask)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


def test_missing_checkpoint_is_one_line_naming_files_and_sources(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(CheckpointNotFoundError) as error:
        load_bert_classifier(tmp_path, num_labels=2)
    message = str(error.value)
    assert "\n" not in message and str(tmp_path) in message
    for needed in (
        "vocab.txt",
        "model.safetensors",
        "pytorch_model.bin",
        "huawei-noah/TinyBERT_General_4L_312D",
        "TinyBERT_General_6L_768D",
        "bert-base-uncased",
    ):
        assert needed in message


def test_checkpoint_for_another_label_count_or_model_is_refused(tmp_path):
    _hf_checkpoint(tmp_path, transformers.BertForSequenceClassification, num_labels=3)
    with pytest.raises(CheckpointError, match=r"classifier\.\w+ has shape \(3,"):
        load_bert_classifier(tmp_path, num_labels=2)
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "num_hidden_layers": 4}))
    with pytest.raises(CheckpointError, match="missing 16 weights"):
        load_bert_classifier(tmp_path, num_labels=3)
    (tmp_path / "config.json").write_text(json.dumps({**config, "hidden_act": "relu"}))
    with pytest.raises(CheckpointError, match="hidden_act 'relu'"):
        load_bert_classifier(tmp_path, num_labels=3)


def test_save_and_load_round_trip(tmp_path):
    torch.manual_seed(1)
    model = BertForSequenceClassification(BertConfig(**TINY), num_labels=3).eval()
    vocab = tmp_path / "vocab.src"
    vocab.write_text("a\nb\n")
    save_bert_checkpoint(model, tmp_path / "ckpt", vocab)
    loaded = load_bert_classifier(tmp_path / "ckpt", num_labels=3)
    assert loaded.initialised == [] and (tmp_path / "ckpt" / "vocab.txt").read_text() == "a\nb\n"
    ids, types, mask = _inputs()
    with torch.no_grad():
        torch.testing.assert_close(loaded.model.eval()(ids, types, mask), model(ids, types, mask))


@pytest.mark.parametrize("name", list(BERT_CONFIGS))
def test_presets_have_transformers_parameter_counts(name):
    config = BERT_CONFIGS[name]
    hf_config = transformers.BertConfig(
        **{k: v for k, v in config.to_dict().items() if k != "model_type"}
    )
    with torch.device("meta"):
        ours = sum(p.numel() for p in BertModel(config).parameters())
        reference = sum(p.numel() for p in transformers.BertModel(hf_config).parameters())
    assert ours == reference
    # bert-base-uncased's published size; TinyBERT 4L-312 / 6L-768 are "14.5M" / "67M" with
    # their distillation projection, 14.35M / 66.96M without
    published = {"bert_tiny4": 14_350_248, "bert_tiny6": 66_955_008, "bert_base": 109_482_240}
    assert ours == published[name]


def test_keep_leaves_only_the_classifier_full_precision():
    model = build_bert("bert_tiny4", num_labels=2, vocab_size=50, num_hidden_layers=2)
    policy = BinarizePolicy(False, False, declared=KEEP, replacements=BINARIZED_MODULES)
    report = binarize(model, "bnn", policy)
    per_layer = (
        "attention.self.query",
        "attention.self.key",
        "attention.self.value",
        "attention.output.dense",
        "intermediate.dense",
        "output.dense",
    )
    expected = {f"bert.encoder.layer.{i}.{name}" for i in range(2) for name in per_layer}
    assert set(report.binarized) == expected | {"bert.pooler.dense"}
    assert set(report.kept) == {"classifier"}
    assert report.activations == []  # GELU and tanh stay
    replaced = {d.name: (d.layer_type, d.new_type) for d in report.replaced}
    assert replaced == {
        "bert.embeddings.word_embeddings": ("WordEmbedding", "BinaryEmbedding"),
        "bert.encoder.layer.0.attention.self.core": ("DotProductAttention", "BiAttention"),
        "bert.encoder.layer.1.attention.self.core": ("DotProductAttention", "BiAttention"),
    }  # position and token-type embeddings stay full precision
    assert "3 modules replaced" in str(report) and "-> BiAttention" in str(report)


def test_sequence_longer_than_positions_is_refused():
    model = BertForSequenceClassification(BertConfig(**TINY), num_labels=2)
    with pytest.raises(ValueError, match="exceeds this BERT's max_position_embeddings 32"):
        model(torch.zeros(1, 33, dtype=torch.long))


def test_unreadable_weights_and_bad_config_values_are_one_line_errors(tmp_path):
    _hf_checkpoint(tmp_path, transformers.BertModel)
    (tmp_path / "model.safetensors").unlink()
    (tmp_path / "pytorch_model.bin").write_bytes(b"not a pickle")
    with pytest.raises(CheckpointError, match="not a tensors-only state_dict") as error:
        load_bert_classifier(tmp_path, num_labels=2)
    assert "\n" not in str(error.value)
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "hidden_size": "24"}))
    with pytest.raises(CheckpointError, match="hidden_size must be an int, got '24'"):
        load_bert_classifier(tmp_path, num_labels=2)
    (tmp_path / "config.json").write_text(json.dumps({**config, "hidden_size": 26}))
    with pytest.raises(CheckpointError, match="26 is not a multiple of num_attention_heads 4"):
        load_bert_classifier(tmp_path, num_labels=2)
