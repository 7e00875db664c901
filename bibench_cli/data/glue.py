"""GLUE read from the official layout, tokenised with a BERT checkpoint's vocabulary.

The official download script (and gluebenchmark.com) unpack one folder per task into
``glue_data/``: ``CoLA``, ``SST-2``, ``MRPC``, ``STS-B``, ``QQP``, ``MNLI``, ``QNLI``, ``RTE``,
``WNLI``, each with ``train.tsv`` and ``dev.tsv`` (MNLI: ``dev_matched.tsv`` and
``dev_mismatched.tsv``).
Files are tab-separated without quoting (``csv.reader(delimiter='\\t', quotechar=None)``), with
a header row except CoLA's. Columns, labels and truncation follow BiBERT's (and the original
BERT's) ``run_classifier``: pairs are cut longest-first with ties cut from the second
sentence (``tokenizers``' own truncation cuts the first on ties, so it is not used). QQP has
rows with missing columns; they are skipped and counted, as BiBERT does. STS-B is a float
regression target.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from tokenizers import BertWordPieceTokenizer

from bibench_cli.data.errors import CorruptDatasetError, DataOptionError, DatasetNotFoundError

HOW_TO_GET = (
    "download GLUE with the official script (download_glue_data.py, "
    "github.com/nyu-mll/GLUE-baselines) or from https://gluebenchmark.com/tasks"
)
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
# The tokenizer's files in a Hugging Face checkpoint folder (models.bert reads the weights).
CONFIG_FILE, TOKENIZER_CONFIG_FILE, VOCAB_FILE = "config.json", "tokenizer_config.json", "vocab.txt"
GLUE_FOLDER = "glue_data"  # what the official download script writes under its data dir


@dataclass(frozen=True)
class GlueTask:
    """Where a GLUE task's files are and which columns hold what.

    ``labels`` are the label strings in class-index order (empty: regression). Column
    indices may be negative (from the end).
    """

    name: str
    folder: str
    files: dict[str, str]
    header: bool
    min_columns: int
    text_a: int
    text_b: int | None
    label: int
    labels: tuple[str, ...]
    skip_malformed: bool = False

    @property
    def regression(self) -> bool:
        return not self.labels

    @property
    def num_labels(self) -> int:
        """Model outputs: classes, or 1 for regression."""
        return len(self.labels) or 1

    @property
    def eval_splits(self) -> tuple[str, ...]:
        return tuple(split for split in self.files if split != "train")


_DEV = {"train": "train.tsv", "dev": "dev.tsv"}
_BINARY = ("0", "1")
_ENTAILMENT = ("entailment", "not_entailment")

_MNLI_FILES = {
    "train": "train.tsv",
    "dev_matched": "dev_matched.tsv",
    "dev_mismatched": "dev_mismatched.tsv",
}


def _task(
    name: str,
    folder: str,
    columns: tuple[int, int, int | None, int],
    labels: tuple[str, ...],
    **options,
) -> GlueTask:
    """``columns``: (at least this many, text_a, text_b, label)."""
    min_columns, text_a, text_b, label = columns
    options = {"files": _DEV, "header": True, **options}
    return GlueTask(
        name,
        folder,
        min_columns=min_columns,
        text_a=text_a,
        text_b=text_b,
        label=label,
        labels=labels,
        **options,
    )


GLUE_TASKS: dict[str, GlueTask] = {
    task.name: task
    for task in (
        # CoLA rows: source, label, original judgement ('*' or empty), sentence; no header
        _task("cola", "CoLA", (4, 3, None, 1), _BINARY, header=False),
        _task("sst2", "SST-2", (2, 0, None, 1), _BINARY),
        _task("mrpc", "MRPC", (5, 3, 4, 0), _BINARY),
        _task("stsb", "STS-B", (10, 7, 8, -1), ()),
        _task("qqp", "QQP", (6, 3, 4, 5), _BINARY, skip_malformed=True),
        _task("mnli", "MNLI", (12, 8, 9, -1), ("contradiction", "entailment", "neutral"),
              files=_MNLI_FILES),
        _task("qnli", "QNLI", (4, 1, 2, -1), _ENTAILMENT),
        _task("rte", "RTE", (4, 1, 2, -1), _ENTAILMENT),
        _task("wnli", "WNLI", (4, 1, 2, -1), _BINARY),
    )
}  # fmt: skip


def glue_task(name: str) -> GlueTask:
    try:
        return GLUE_TASKS[name]
    except KeyError:
        known = ", ".join(GLUE_TASKS)
        raise DataOptionError(f"unknown GLUE task {name!r}; known: {known}") from None


def glue_dir(root: str | Path) -> Path:
    """The folder holding the task folders: ``root/glue_data``, or ``root`` if it holds them."""
    root = Path(root).expanduser()
    nested = root / GLUE_FOLDER
    if nested.is_dir():
        return nested
    if any((root / task.folder).is_dir() for task in GLUE_TASKS.values()):
        return root
    raise DatasetNotFoundError(
        f"GLUE not found at {root}: expected {nested}/ holding CoLA/, SST-2/, ... MNLI/ (the "
        f"official layout); {HOW_TO_GET}"
    )


@dataclass(frozen=True)
class GlueExamples:
    """One split as read: texts, labels (class indices or floats) and skipped rows."""

    texts_a: list[str]
    texts_b: list[str] | None
    labels: list[int] | list[float]
    skipped: int
    path: Path


def glue_file(root: str | Path, task: str, split: str) -> Path:
    """``<root>/<Task>/<file>`` of a split, or a one-line error saying where to get it."""
    spec = glue_task(task)
    if split not in spec.files:
        raise ValueError(f"GLUE {spec.folder} has splits {', '.join(spec.files)}, not {split!r}")
    path = Path(root).expanduser() / spec.folder / spec.files[split]
    if not path.is_file():
        expected = ", ".join(spec.files.values())
        raise DatasetNotFoundError(
            f"GLUE {spec.folder} {split} not found: no {path} (expected {expected} in "
            f"{path.parent}, the official layout); {HOW_TO_GET}"
        )
    return path


def read_glue(root: str | Path, task: str, split: str) -> GlueExamples:
    """Texts and labels of one split; rows that do not parse are an error except in QQP."""
    spec = glue_task(task)
    path = glue_file(root, task, split)
    label_index = {label: index for index, label in enumerate(spec.labels)}
    texts_a, texts_b, labels, skipped = [], [], [], 0
    for line, row in _tsv_rows(path, skip=int(spec.header)):
        problem = None
        if len(row) < spec.min_columns:
            problem = f"{len(row)} columns, expected at least {spec.min_columns}"
        else:
            label = _parse_label(row[spec.label], label_index, spec.regression)
            if label is None:
                problem = f"label {row[spec.label]!r} is not one of {_accepted(spec)}"
        if problem is None:
            texts_a.append(row[spec.text_a])
            if spec.text_b is not None:
                texts_b.append(row[spec.text_b])
            labels.append(label)
        elif spec.skip_malformed:
            skipped += 1
        else:
            raise CorruptDatasetError(
                f"{path}:{line}: {problem}; re-download GLUE {spec.folder} ({HOW_TO_GET})"
            )
    if not labels:
        raise CorruptDatasetError(f"{path} holds no examples; {HOW_TO_GET}")
    b = texts_b if spec.text_b is not None else None
    return GlueExamples(texts_a, b, labels, skipped, path)


def _tsv_rows(path: Path, skip: int) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of a GLUE file after ``skip`` header lines, read lazily."""
    try:
        with path.open(encoding="utf-8") as handle:
            reader = csv.reader(handle, delimiter="\t", quotechar=None)
            for line, row in enumerate(reader, start=1):
                if line > skip:
                    yield line, row
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise CorruptDatasetError(f"cannot read {path}: {error}") from None


def _parse_label(text: str, label_index: dict[str, int], regression: bool) -> int | float | None:
    if regression:
        try:
            return float(text)
        except ValueError:
            return None
    return label_index.get(text)


def _accepted(spec: GlueTask) -> str:
    return ", ".join(spec.labels) if spec.labels else "a number"


# --- tokenisation ------------------------------------------------------------------------


def vocab_file(source: str | Path) -> Path:
    """The WordPiece vocabulary of ``source``: a ``vocab.txt`` file, or a directory (a BERT
    checkpoint) holding one."""
    path = Path(source).expanduser()
    if path.is_dir():
        path = path / VOCAB_FILE
    if not path.is_file():
        raise DatasetNotFoundError(
            f"no WordPiece vocabulary at {path}: expected a BERT checkpoint's {VOCAB_FILE} (one "
            "token per line), or the directory holding it"
        )
    return path


def load_tokenizer(source: str | Path) -> BertWordPieceTokenizer:
    """The WordPiece tokenizer of a ``vocab.txt`` (or of a checkpoint directory's).

    Lower-cases as ``tokenizer_config.json`` (or ``config.json``) beside the vocabulary says
    with ``do_lower_case``; uncased (BERT-base-uncased, TinyBERT) when neither says.
    """
    vocab = vocab_file(source)
    lowercase = True
    for path in (vocab.with_name(CONFIG_FILE), vocab.with_name(TOKENIZER_CONFIG_FILE)):
        if path.is_file():
            try:
                lowercase = bool(
                    json.loads(path.read_text(encoding="utf-8")).get("do_lower_case", lowercase)
                )
            except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as error:
                raise CorruptDatasetError(f"cannot read {path}: {error}") from None
    tokenizer = BertWordPieceTokenizer(str(vocab), lowercase=lowercase)
    missing = [t for t in SPECIAL_TOKENS[:4] if tokenizer.token_to_id(t) is None]
    if missing:
        raise CorruptDatasetError(f"{vocab} lacks BERT's special tokens {', '.join(missing)}")
    return tokenizer


class GlueEncoding(NamedTuple):
    """Model inputs and targets, each (N, max_seq_length) but ``labels`` (N,): int64 class
    indices, or float32 for regression. A tuple, so ``TensorDataset(*encoding)`` works."""

    input_ids: torch.Tensor
    token_type_ids: torch.Tensor
    attention_mask: torch.Tensor
    labels: torch.Tensor


def truncate_pair(len_a: int, len_b: int, budget: int) -> tuple[int, int]:
    """Lengths after BERT's ``_truncate_seq_pair``: drop the last token of the longer
    sequence (the second on ties) until both fit in ``budget``."""
    while len_a + len_b > budget:
        if len_a > len_b:
            len_a -= 1
        else:
            len_b -= 1
    return len_a, len_b


def encode_glue(
    examples: GlueExamples, tokenizer: BertWordPieceTokenizer, max_seq_length: int
) -> GlueEncoding:
    """[CLS] a [SEP] (b [SEP]), padded with [PAD] to ``max_seq_length``; type ids 0 for the
    first segment, 1 for the second; mask 1 on tokens."""
    pairs = examples.texts_b is not None
    if max_seq_length < (3 if pairs else 2) + 1:
        raise ValueError(f"max_seq_length {max_seq_length} leaves no room for text")
    ids = {t: tokenizer.token_to_id(t) for t in ("[CLS]", "[SEP]", "[PAD]")}
    pieces_a = [e.ids for e in tokenizer.encode_batch(examples.texts_a, add_special_tokens=False)]
    pieces_b = (
        [e.ids for e in tokenizer.encode_batch(examples.texts_b, add_special_tokens=False)]
        if pairs
        else [[] for _ in pieces_a]
    )
    count = len(pieces_a)
    input_ids = np.full((count, max_seq_length), ids["[PAD]"], dtype=np.int64)
    token_type_ids = np.zeros((count, max_seq_length), dtype=np.int64)
    attention_mask = np.zeros((count, max_seq_length), dtype=np.int64)
    budget = max_seq_length - (3 if pairs else 2)
    for row, (a, b) in enumerate(zip(pieces_a, pieces_b, strict=True)):
        len_a, len_b = truncate_pair(len(a), len(b), budget)
        tokens = [ids["[CLS]"], *a[:len_a], ids["[SEP]"]]
        first = len(tokens)
        if pairs:
            tokens += [*b[:len_b], ids["[SEP]"]]
        input_ids[row, : len(tokens)] = tokens
        token_type_ids[row, first : len(tokens)] = 1
        attention_mask[row, : len(tokens)] = 1
    dtype = torch.float32 if isinstance(examples.labels[0], float) else torch.int64
    return GlueEncoding(
        torch.from_numpy(input_ids),
        torch.from_numpy(token_type_ids),
        torch.from_numpy(attention_mask),
        torch.tensor(examples.labels, dtype=dtype),
    )


# --- demo data ---------------------------------------------------------------------------

DEMO_FILLER = (
    "the", "a", "cat", "dog", "bird", "house", "tree", "river", "walks", "sees",
    "near", "under", "small", "old", "quiet", "today",
)  # fmt: skip
#: Word i present <=> class i (STS-B: score i); everything else is filler, so the label is
#: learnable from one token in either sentence.
DEMO_MARKERS = ("zero", "one", "two", "three", "four", "five")
DEMO_WORDS = DEMO_FILLER + DEMO_MARKERS

_HEADERS = {
    "sst2": "sentence\tlabel",
    "mrpc": "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String",
    "stsb": (
        "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore"
    ),
    "qqp": "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate",
    "qnli": "index\tquestion\tsentence\tlabel",
    "rte": "index\tsentence1\tsentence2\tlabel",
    "wnli": "index\tsentence1\tsentence2\tlabel",
}
_MNLI_COLUMNS = (
    "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
    "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1"
)


def _demo_row(task: str, index: int, a: str, b: str, label: str, dev: bool) -> str:
    """One line in the task's official column layout."""
    if task == "cola":
        return f"demo{index % 10}\t{label}\t{'*' if label == '0' else ''}\t{a}"
    if task == "sst2":
        return f"{a}\t{label}"
    if task == "mrpc":
        return f"{label}\t{2 * index}\t{2 * index + 1}\t{a}\t{b}"
    if task == "stsb":
        return f"{index}\tdemo\tdemo\t2024\t{index}\tnone\tnone\t{a}\t{b}\t{label}"
    if task == "qqp":
        return f"{index}\t{2 * index}\t{2 * index + 1}\t{a}\t{b}\t{label}"
    if task == "mnli":
        parses = f"( {a} )\t( {b} )\t(ROOT {a})\t(ROOT {b})"
        annotators = "\t".join([label] * (5 if dev else 1))
        return f"{index}\t{index}\t{index}e\tdemo\t{parses}\t{a}\t{b}\t{annotators}\t{label}"
    return f"{index}\t{a}\t{b}\t{label}"


def _demo_header(task: str, dev: bool) -> str | None:
    if task == "mnli":
        extra = "\tlabel2\tlabel3\tlabel4\tlabel5" if dev else ""
        return f"{_MNLI_COLUMNS}{extra}\tgold_label"
    return _HEADERS.get(task)


def _demo_sentence(rng: random.Random, marker: str | None) -> str:
    words = rng.choices(DEMO_FILLER, k=rng.randint(3, 8))
    if marker is not None:
        words.insert(rng.randint(0, len(words)), marker)
    return " ".join(words)


DEMO_TRAIN_SIZE = 64
DEMO_DEV_SIZE = 32


def write_demo_glue(
    root: str | Path,
    *,
    seed: int = 0,
    train_size: int = DEMO_TRAIN_SIZE,
    dev_size: int = DEMO_DEV_SIZE,
) -> Path:
    """Tiny synthetic GLUE in the official layout, every task and split.

    Each example holds exactly one marker word, in a random sentence of the pair; it
    determines the label (class index, or the STS-B score). Deterministic given ``seed``.
    """
    root = Path(root)
    for task, spec in GLUE_TASKS.items():
        folder = root / spec.folder
        folder.mkdir(parents=True, exist_ok=True)
        for split, filename in spec.files.items():
            rng = random.Random(f"{seed}/{task}/{split}")
            size = train_size if split == "train" else dev_size
            header = _demo_header(task, dev=split != "train")
            lines = [] if header is None else [header]
            for index in range(size):
                label_index = index % len(DEMO_MARKERS if spec.regression else spec.labels)
                marker = DEMO_MARKERS[label_index]
                in_first = spec.text_b is None or rng.random() < 0.5
                a = _demo_sentence(rng, marker if in_first else None)
                b = _demo_sentence(rng, None if in_first else marker)
                label = f"{label_index:.3f}" if spec.regression else spec.labels[label_index]
                lines.append(_demo_row(task, index, a, b, label, dev=split != "train"))
            (folder / filename).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root
