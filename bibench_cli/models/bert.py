"""A compact BERT encoder with a sequence-classification head, laid out like Hugging Face's.

Module names follow ``transformers``' ``BertForSequenceClassification`` (``bert.embeddings.
word_embeddings``, ``bert.encoder.layer.N.attention.self.query``, ``...attention.output.dense``,
``...intermediate.dense``, ``...output.LayerNorm``, ``bert.pooler.dense``, ``classifier``), so
published checkpoints load 1:1. Differences that matter to binarization:

- the attention maths, softmax(QKᵀ/√d + mask)·V with dropout on the probabilities, is its own
  module per layer (``encoder.layer.N.attention.self.core``) so a binarizer can swap it for
  BiBERT's bi-attention;
- the word embedding is a :class:`WordEmbedding` (an ``nn.Embedding`` of its own type), so a
  binarizer can swap it alone: BiBERT binarizes it, not the position and token-type tables;
- every linear is a plain ``nn.Linear`` (the converter swaps exact types); GELU and the pooler's
  tanh are modules that binarized runs keep;
- ``forward_with_internals`` also returns what distillation needs: the hidden states (embedding
  output and every layer's output) and every layer's Q, K, V before any binarization.

The padding mask is additive, 0 for tokens and -10000 for padding, as in the original BERT
and BiBERT (bi-attention thresholds the masked scores at 0, so the value must be finite).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields, replace
from fnmatch import fnmatchcase
from pathlib import Path
from pickle import UnpicklingError
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from bibench_cli.binarize.base import ActivationMatmul
from bibench_cli.binarize.bi_attention import BiAttention, BinaryEmbedding
from bibench_cli.errors import BibenchError, item_list
from bibench_cli.models.errors import UnknownArchitectureError
from bibench_cli.models.inputs import TokenInput

#: Full-precision layers of a binarized BERT (with keep_first/keep_last off): the classifier.
#: Query, key, value, attention output, intermediate, output and pooler are binarized; the
#: LayerNorms and position/token-type embeddings are not Linear layers, so never candidates.
KEEP = {"classifier": "task head (full precision in BiBERT and BiBench)"}

CONFIG_FILE = "config.json"
SAFETENSORS_FILE = "model.safetensors"
BIN_FILE = "pytorch_model.bin"
VOCAB_FILE = "vocab.txt"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
MASKED_SCORE = -10000.0
EXPECTED_FILES = f"{CONFIG_FILE}, {SAFETENSORS_FILE} or {BIN_FILE}, and {VOCAB_FILE}"
WHERE_TO_GET = (
    "download one (huawei-noah/TinyBERT_General_4L_312D, huawei-noah/TinyBERT_General_6L_768D or "
    "bert-base-uncased from the Hugging Face hub, or a copy fine-tuned on the task) into it"
)


class CheckpointNotFoundError(BibenchError, FileNotFoundError):
    """A BERT checkpoint directory lacks its config, weights or vocabulary."""


class CheckpointError(BibenchError, ValueError):
    """A BERT checkpoint exists but does not fit the model (bad config, keys or shapes)."""


@dataclass(frozen=True)
class BertConfig:
    """Hyper-parameters, named as in Hugging Face's ``config.json``."""

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    layer_norm_eps: float = 1e-12
    initializer_range: float = 0.02
    pad_token_id: int = 0

    def __post_init__(self) -> None:
        if self.hidden_size % self.num_attention_heads:
            raise CheckpointError(
                f"BERT hidden_size {self.hidden_size} is not a multiple of "
                f"num_attention_heads {self.num_attention_heads}"
            )

    @property
    def head_size(self) -> int:
        return self.hidden_size // self.num_attention_heads

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str = "config") -> BertConfig:
        """Read an HF/TinyBERT ``config.json`` dict; keys that change nothing here are ignored.

        Only the erf GELU and absolute position embeddings are implemented (every checkpoint
        the paper uses); anything else is refused rather than silently computed differently.
        """
        act = values.get("hidden_act", "gelu")
        position = values.get("position_embedding_type", "absolute")
        if act != "gelu" or position != "absolute":
            raise CheckpointError(
                f"{source}: hidden_act {act!r} / position_embedding_type {position!r} not "
                "supported (only 'gelu' / 'absolute', as in BERT and TinyBERT)"
            )
        required = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads")
        missing = [key for key in required if key not in values]
        if missing:
            raise CheckpointError(f"{source}: missing {', '.join(missing)}; not a BERT config")
        kwargs = {}
        for field in fields(cls):
            value = values.get(field.name)
            if value is None:
                continue
            kind = type(field.default)  # int or float
            if isinstance(value, bool) or not isinstance(value, (int, kind)):
                raise CheckpointError(
                    f"{source}: {field.name} must be a{'n int' if kind is int else ' number'}, "
                    f"got {value!r}"
                )
            kwargs[field.name] = kind(value)
        try:
            return cls(**kwargs)
        except CheckpointError as error:
            raise CheckpointError(f"{source}: {error}") from None

    def to_dict(self) -> dict[str, Any]:
        """HF-style ``config.json`` content."""
        return {"model_type": "bert", "hidden_act": "gelu", **asdict(self)}


#: TinyBERT General 4L-312D / 6L-768D (huawei-noah) and bert-base-uncased.
BERT_CONFIGS = {
    "bert_tiny4": BertConfig(
        num_hidden_layers=4, hidden_size=312, num_attention_heads=12, intermediate_size=1200
    ),
    "bert_tiny6": BertConfig(
        num_hidden_layers=6, hidden_size=768, num_attention_heads=12, intermediate_size=3072
    ),
    "bert_base": BertConfig(
        num_hidden_layers=12, hidden_size=768, num_attention_heads=12, intermediate_size=3072
    ),
}


def padding_bias(attention_mask: Tensor, dtype: torch.dtype) -> Tensor:
    """(B, T) 1/0 mask -> (B, 1, 1, T) additive bias: 0 for tokens, -10000 for padding."""
    return (1.0 - attention_mask[:, None, None, :].to(dtype)) * MASKED_SCORE


class WordEmbedding(nn.Embedding):
    """The word (WordPiece) table: a type of its own so that binarized runs swap this table
    and not the position and token-type ones."""


class BertEmbeddings(nn.Module):
    """Word + position + token-type embeddings, LayerNorm, dropout."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.word_embeddings = WordEmbedding(
            config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id
        )
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids: Tensor, token_type_ids: Tensor) -> Tensor:
        length = input_ids.shape[1]
        if length > self.position_embeddings.num_embeddings:
            raise ValueError(
                f"sequence length {length} exceeds this BERT's "
                f"max_position_embeddings {self.position_embeddings.num_embeddings}"
            )
        positions = torch.arange(length, device=input_ids.device)
        embeddings = (
            self.word_embeddings(input_ids)
            + self.position_embeddings(positions)
            + self.token_type_embeddings(token_type_ids)
        )
        return self.dropout(self.LayerNorm(embeddings))


class DotProductAttention(ActivationMatmul, nn.Module):
    """softmax(QKᵀ/√d + mask)·V with dropout on the probabilities, per head (FP32 BERT).

    Inputs (B, heads, T, d) and the additive (B, 1, 1, T) padding bias. A separate module so
    that binarized runs can replace it (BiBERT's bi-attention has no softmax at all), and an
    :class:`ActivationMatmul` so that complexity counting takes its two matmuls as float.
    """

    def __init__(self, head_size: int, dropout: float) -> None:
        super().__init__()
        self.head_size = head_size
        self.dropout = nn.Dropout(dropout)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, bias: Tensor) -> Tensor:
        p = self.dropout.p if self.training else 0.0
        return F.scaled_dot_product_attention(query, key, value, attn_mask=bias, dropout_p=p)


class QKV(NamedTuple):
    """One layer's query, key and value, each (B, heads, T, head_size)."""

    query: Tensor
    key: Tensor
    value: Tensor


class BertSelfAttention(nn.Module):
    """Q, K, V projections, split into heads, and the attention ``core``."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.num_heads = config.num_attention_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.core = DotProductAttention(config.head_size, config.attention_probs_dropout_prob)

    def _heads(self, x: Tensor) -> Tensor:
        return x.unflatten(-1, (self.num_heads, -1)).transpose(1, 2)

    def forward(self, hidden: Tensor, bias: Tensor) -> tuple[Tensor, QKV]:
        qkv = QKV(*(self._heads(proj(hidden)) for proj in (self.query, self.key, self.value)))
        context = self.core(*qkv, bias)
        return context.transpose(1, 2).flatten(2), qkv


class BertSelfOutput(nn.Module):
    """Projection of the attention context, dropout, residual, LayerNorm."""

    def __init__(self, config: BertConfig, in_features: int) -> None:
        super().__init__()
        self.dense = nn.Linear(in_features, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden: Tensor, residual: Tensor) -> Tensor:
        return self.LayerNorm(self.dropout(self.dense(hidden)) + residual)


class BertAttention(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertSelfOutput(config, config.hidden_size)

    def forward(self, hidden: Tensor, bias: Tensor) -> tuple[Tensor, QKV]:
        context, qkv = self.self(hidden, bias)
        return self.output(context, hidden), qkv


class BertIntermediate(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.intermediate_act_fn = nn.GELU()

    def forward(self, hidden: Tensor) -> Tensor:
        return self.intermediate_act_fn(self.dense(hidden))


class BertLayer(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        # HF names the feed-forward output block ``output`` like the attention's: same class
        self.output = BertSelfOutput(config, config.intermediate_size)

    def forward(self, hidden: Tensor, bias: Tensor) -> tuple[Tensor, QKV]:
        attended, qkv = self.attention(hidden, bias)
        return self.output(self.intermediate(attended), attended), qkv


class BertEncoder(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(BertLayer(config) for _ in range(config.num_hidden_layers))


class BertPooler(nn.Module):
    """dense + tanh on the first ([CLS]) token."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, hidden: Tensor) -> Tensor:
        return self.activation(self.dense(hidden[:, 0]))


@dataclass
class BertInternals:
    """What distillation reads: ``hidden_states`` holds the embedding output then each
    layer's output (L + 1 tensors, (B, T, H)); ``qkv`` each layer's Q, K, V."""

    hidden_states: list[Tensor]
    qkv: list[QKV]


class BertModel(nn.Module):
    """Embeddings, encoder and pooler; ``forward`` returns (sequence output, pooled output)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config)
        init_bert_weights(self, config.initializer_range)

    def forward(
        self,
        input_ids: Tensor,
        token_type_ids: Tensor | None = None,
        attention_mask: Tensor | None = None,
        internals: BertInternals | None = None,
    ) -> tuple[Tensor, Tensor]:
        """``internals``, if given, is filled with hidden states and Q, K, V."""
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        hidden = self.embeddings(input_ids, token_type_ids)
        bias = padding_bias(attention_mask, hidden.dtype)
        if internals is not None:
            internals.hidden_states.append(hidden)
        for layer in self.encoder.layer:
            hidden, qkv = layer(hidden, bias)
            if internals is not None:
                internals.hidden_states.append(hidden)
                internals.qkv.append(qkv)
        return hidden, self.pooler(hidden)


class BertForSequenceClassification(nn.Module):
    """BERT + dropout + linear ``classifier`` on the pooled output; ``num_labels`` = 1 is
    regression (STS-B), as in Hugging Face."""

    def __init__(self, config: BertConfig, num_labels: int) -> None:
        super().__init__()
        if num_labels < 1:
            raise ValueError(f"num_labels must be >= 1 (1 = regression), got {num_labels}")
        self.config = config
        self.num_labels = num_labels
        self.bert = BertModel(config)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.classifier = nn.Linear(config.hidden_size, num_labels)
        init_bert_weights(self.classifier, config.initializer_range)

    def forward(
        self,
        input_ids: Tensor,
        token_type_ids: Tensor | None = None,
        attention_mask: Tensor | None = None,
    ) -> Tensor:
        """Logits (B, num_labels)."""
        _, pooled = self.bert(input_ids, token_type_ids, attention_mask)
        return self.classifier(self.dropout(pooled))

    def forward_with_internals(
        self,
        input_ids: Tensor,
        token_type_ids: Tensor | None = None,
        attention_mask: Tensor | None = None,
    ) -> tuple[Tensor, BertInternals]:
        """Logits and the hidden states / Q, K, V that distillation compares."""
        internals = BertInternals([], [])
        _, pooled = self.bert(input_ids, token_type_ids, attention_mask, internals)
        return self.classifier(self.dropout(pooled)), internals


def init_bert_weights(model: nn.Module, std: float) -> None:
    """BERT's initialisation: N(0, std) linears/embeddings, zero biases and padding row,
    LayerNorm 1/0."""
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=std)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)
        if isinstance(module, nn.Embedding) and module.padding_idx is not None:
            nn.init.zeros_(module.weight[module.padding_idx])
        if isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


#: What every binarized run of a BERT swaps besides the algorithm's linears, whatever the
#: algorithm (BiBench does it so binarized BERTs converge at all): BiBERT's bi-attention for
#: the softmax attention and its binarized word embedding.
BINARIZED_MODULES = {DotProductAttention: BiAttention, WordEmbedding: BinaryEmbedding}


def build_bert(name: str, *, num_labels: int, **overrides: Any) -> BertForSequenceClassification:
    """A freshly initialised ``bert_tiny4`` / ``bert_tiny6`` / ``bert_base`` (``overrides``
    change config fields, e.g. ``vocab_size`` for another vocabulary)."""
    if name not in BERT_CONFIGS:
        known = ", ".join(BERT_CONFIGS)
        raise UnknownArchitectureError(f"unknown BERT config {name!r}; known: {known}")
    return BertForSequenceClassification(replace(BERT_CONFIGS[name], **overrides), num_labels)


def bert_builder(preset: str) -> Callable[..., BertForSequenceClassification]:
    """The architecture registry's builder of ``preset``.

    A run with a checkpoint (``arch.checkpoint``) builds the BERT its ``config.json``
    describes, so the checkpoint's weights fit; without one (``arch.checkpoint=none``) the
    preset's sizes, with the tokenizer's vocabulary when the data has been read. A
    vocabulary or sequence length the model cannot take is a CheckpointError (a mismatch to
    fix, not an incompatible architecture a sweep may skip).
    """

    def build(
        input: TokenInput, *, num_labels: int, checkpoint: str | None = None
    ) -> BertForSequenceClassification:
        if checkpoint:
            config = read_config(checkpoint_files(checkpoint)[0])
        else:
            config = BERT_CONFIGS[preset]
            if input.vocab_size:
                config = replace(config, vocab_size=input.vocab_size)
        source = f"the checkpoint {checkpoint}" if checkpoint else f"the {preset} preset"
        if input.vocab_size and input.vocab_size > config.vocab_size:
            raise CheckpointError(
                f"the tokenizer has {input.vocab_size} entries but {source} only "
                f"{config.vocab_size} word embeddings: use the checkpoint's own vocab.txt"
            )
        if input.length > config.max_position_embeddings:
            raise CheckpointError(
                f"max_seq_length {input.length} exceeds the {config.max_position_embeddings} "
                f"positions of {source}; lower task.data.max_seq_length"
            )
        return BertForSequenceClassification(config, num_labels)

    build.__name__ = build.__qualname__ = preset
    return build


# --- checkpoints -------------------------------------------------------------------------


class LoadedBert(NamedTuple):
    """A model from a checkpoint, the parameters it initialised freshly (a new task head) and
    the checkpoint entries it did not use (pre-training heads such as ``cls.*``)."""

    model: BertForSequenceClassification
    initialised: list[str]
    ignored: list[str]


def checkpoint_files(directory: str | Path) -> tuple[Path, Path, Path]:
    """(config.json, weights file, vocab.txt) of a checkpoint directory, or a one-line error."""
    directory = Path(directory).expanduser()
    weights = [directory / n for n in (SAFETENSORS_FILE, BIN_FILE) if (directory / n).is_file()]
    missing = [n for n in (CONFIG_FILE, VOCAB_FILE) if not (directory / n).is_file()]
    if not weights:
        missing.append(f"{SAFETENSORS_FILE} or {BIN_FILE}")
    if missing:
        raise CheckpointNotFoundError(
            f"BERT checkpoint at {directory} lacks {', '.join(missing)} (expected "
            f"{EXPECTED_FILES}); {WHERE_TO_GET}"
        )
    return directory / CONFIG_FILE, weights[0], directory / VOCAB_FILE


def read_config(path: Path) -> BertConfig:
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"cannot read {path}: {error}") from None
    if not isinstance(values, dict):
        raise CheckpointError(f"{path}: expected a JSON object, got {type(values).__name__}")
    return BertConfig.from_dict(values, source=str(path))


def read_weights(path: Path) -> dict[str, Tensor]:
    """A safetensors file or a (weights-only) torch pickle of a state_dict."""
    try:
        if path.name.endswith(".safetensors"):
            return load_file(path)
        state = torch.load(path, map_location="cpu", weights_only=True)
    except UnpicklingError:
        raise CheckpointError(
            f"cannot read BERT weights {path}: not a tensors-only state_dict pickle (truncated, "
            f"corrupt or holding other objects); download it again or use {SAFETENSORS_FILE}"
        ) from None
    except (OSError, RuntimeError, SafetensorError, EOFError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CheckpointError(f"cannot read BERT weights {path}: {reason}") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: expected a state_dict, got {type(state).__name__}")
    return state


def _canonical_key(key: str) -> str | None:
    """HF ``BertForSequenceClassification`` name of a checkpoint key (None: a buffer to drop).

    Old Google/TinyBERT checkpoints name LayerNorm parameters gamma/beta; bare ``BertModel``
    checkpoints lack the ``bert.`` prefix; older transformers saved ``position_ids`` buffers.
    """
    if key.endswith("position_ids"):
        return None
    for old, new in ((".gamma", ".weight"), (".beta", ".bias")):
        if key.endswith(old):
            key = key[: -len(old)] + new
    if key.startswith(("embeddings.", "encoder.", "pooler.")):
        key = "bert." + key
    return key


#: Parameters a checkpoint may lack (general, not fine-tuned checkpoints): initialised fresh.
OPTIONAL_PREFIXES = ("bert.pooler.", "classifier.")


def load_bert_weights(
    model: BertForSequenceClassification, directory: str | Path, heads: Iterable[str] = ()
) -> tuple[list[str], list[str]]:
    """Load a checkpoint directory's weights into ``model``; returns the parameters left at
    their initialisation and the checkpoint entries not used (pre-training heads such as
    ``cls.*``).

    Every embedding and encoder weight must be present with the right shape. The pooler and
    classifier may be absent; layers matching a ``heads`` pattern may also differ in shape (a
    checkpoint fine-tuned for another label count, e.g. MNLI's three for a two-label task).
    """
    config_path, weights_path, _ = checkpoint_files(directory)
    expected = model.state_dict()
    state: dict[str, Tensor] = {}
    ignored = []
    for key, value in read_weights(weights_path).items():
        name = _canonical_key(key)
        if name in expected:
            state[name] = value
        elif name is not None:
            ignored.append(key)
    for name, value in list(state.items()):
        if value.shape == expected[name].shape:
            continue
        if any(fnmatchcase(name.rpartition(".")[0], pattern) for pattern in heads):
            del state[name]  # another head: keeps its initialisation
            continue
        raise CheckpointError(
            f"{weights_path}: {name} has shape {tuple(value.shape)}, the model expects "
            f"{tuple(expected[name].shape)} (config {config_path})"
        )
    missing = [k for k in expected if k not in state]
    required = [k for k in missing if not k.startswith(OPTIONAL_PREFIXES)]
    if required:
        raise CheckpointError(
            f"{weights_path} is not a checkpoint of this BERT: missing {len(required)} "
            f"weights, e.g. {', '.join(required[:3])}"
        )
    model.load_state_dict(state, strict=False)
    return missing, ignored


def load_bert_classifier(directory: str | Path, *, num_labels: int) -> LoadedBert:
    """A ``BertForSequenceClassification`` of a local checkpoint directory's config with its
    weights (a pooler or classifier it lacks is initialised; see :func:`load_bert_weights`)."""
    config_path, _, _ = checkpoint_files(directory)
    model = BertForSequenceClassification(read_config(config_path), num_labels)
    initialised, ignored = load_bert_weights(model, directory)
    return LoadedBert(model, initialised, ignored)


def load_pretrained_bert(
    model: BertForSequenceClassification, directory: str | Path, heads: Iterable[str] = ()
) -> str:
    """The registry's pretrained start (``arch.checkpoint``): the checkpoint's weights into a
    model built from its config; a one-line note of what was left fresh or unused."""
    initialised, ignored = load_bert_weights(model, directory, heads)
    notes = []
    if initialised:
        notes.append(f"initialised fresh: {item_list(initialised)}")
    if ignored:
        notes.append(f"checkpoint entries not used: {item_list(ignored)}")
    return "; ".join(notes)


def save_bert_checkpoint(
    model: BertForSequenceClassification | BertModel,
    directory: str | Path,
    vocab_file: str | Path,
    *,
    lowercase: bool = True,
) -> Path:
    """Write ``config.json``, ``model.safetensors``, ``vocab.txt`` and
    ``tokenizer_config.json`` (HF layout; loadable by ``load_bert_classifier``)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = model.config.to_dict()
    if isinstance(model, BertForSequenceClassification):
        config["num_labels"] = model.num_labels
    (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, directory / SAFETENSORS_FILE)
    if Path(vocab_file).resolve() != (directory / VOCAB_FILE).resolve():
        shutil.copyfile(vocab_file, directory / VOCAB_FILE)
    tokenizer_config = json.dumps({"do_lower_case": lowercase}) + "\n"
    (directory / TOKENIZER_CONFIG_FILE).write_text(tokenizer_config, encoding="utf-8")
    return directory
