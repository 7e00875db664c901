"""The GLUE datamodule: one subtask (``task.subtask``) read from the official layout and
tokenised with the run's BERT vocabulary.

The vocabulary belongs to the model: a token id indexes a row of the checkpoint's word
embeddings, so the tokenizer reads the ``vocab.txt`` of the run's checkpoint
(``arch.checkpoint``). A run without one (``arch.checkpoint=none``, a random BERT) names its
vocabulary explicitly with ``task.data.vocab`` (e.g. the demo checkpoint's) rather than
having one guessed from the data folder: real GLUE ships no vocabulary, and a guessed one
could silently differ from the model's.

Validation and test both read the dev set(s): GLUE's test labels are not public, and BiBERT
and BiBench report dev scores of the best checkpoint on dev. MNLI validates on the matched
dev set and is tested on both, reported as ``mnli-m`` and ``mnli-mm``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from bibench_cli.data.errors import DataOptionError
from bibench_cli.data.glue import (
    encode_glue,
    glue_dir,
    glue_file,
    glue_task,
    load_tokenizer,
    read_glue,
    vocab_file,
)

log = logging.getLogger("bibench")
#: MNLI's two dev sets as the paper's GLUE table names them.
MNLI_SETS = {"dev_matched": "mnli-m", "dev_mismatched": "mnli-mm"}


class GlueDataModule(pl.LightningDataModule):
    """Batches ``(input_ids, token_type_ids, attention_mask, labels)`` of one GLUE subtask,
    padded to ``max_seq_length`` (see the module docstring for the vocabulary and splits).

    ``root`` holds ``glue_data/`` (or is it); ``vocab`` is a ``vocab.txt`` or a directory
    holding one, for runs without a checkpoint only.
    """

    def __init__(
        self,
        *,
        root: str | Path = "data",
        subtask: str = "",
        checkpoint: str | None = None,
        max_seq_length: int = 128,
        vocab: str | None = None,
        batch_size: int = 32,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.root = Path(root).expanduser()
        self.task = glue_task(subtask)
        self.checkpoint = checkpoint
        self.max_seq_length = max_seq_length
        self.vocab = vocab
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.seed = seed
        self.vocab_size: int | None = None
        self._datasets: dict[str, TensorDataset] = {}

    @property
    def test_sets(self) -> tuple[str, ...]:
        """Names of the evaluated dev sets, in test-dataloader order (the first validates)."""
        if len(self.task.eval_splits) == 1:
            return (self.task.name,)
        return tuple(MNLI_SETS[split] for split in self.task.eval_splits)

    def vocabulary(self) -> Path:
        """The ``vocab.txt`` the tokenizer reads (one line when there is none)."""
        if self.checkpoint and self.vocab:
            raise DataOptionError(
                f"task.data.vocab={self.vocab} and arch.checkpoint={self.checkpoint}: a run with "
                "a checkpoint tokenises with the checkpoint's own vocab.txt; unset task.data.vocab"
            )
        source = self.checkpoint or self.vocab
        if not source:
            raise DataOptionError(
                "GLUE is tokenised with a BERT vocabulary: give arch.checkpoint=DIR (its vocab.txt)"
                ", or with arch.checkpoint=none task.data.vocab=FILE (e.g. the demo checkpoint's, "
                "from bibench data demo --task glue)"
            )
        return vocab_file(source)

    def check_data(self) -> None:
        """One line when a split's file or the vocabulary is missing (reads neither)."""
        folder = glue_dir(self.root)
        for split in self.task.files:
            glue_file(folder, self.task.name, split)
        self.vocabulary()

    def setup(self, stage: str | None = None) -> None:
        """Read and tokenise the training and dev sets once (fit and test share them)."""
        if self._datasets:
            return
        tokenizer = load_tokenizer(self.vocabulary())
        self.vocab_size = tokenizer.get_vocab_size()
        folder = glue_dir(self.root)
        for split in self.task.files:
            examples = read_glue(folder, self.task.name, split)
            if examples.skipped:
                log.info("%s: skipped %d malformed rows", examples.path, examples.skipped)
            encoded = encode_glue(examples, tokenizer, self.max_seq_length)
            self._datasets[split] = TensorDataset(*encoded)

    def _loader(self, split: str, *, train: bool) -> DataLoader:
        self.setup()
        return DataLoader(
            self._datasets[split],
            batch_size=self.batch_size,
            shuffle=train,
            generator=torch.Generator().manual_seed(self.seed) if train else None,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.task.eval_splits[0], train=False)

    def test_dataloader(self) -> DataLoader | list[DataLoader]:
        loaders = [self._loader(split, train=False) for split in self.task.eval_splits]
        return loaders if len(loaders) > 1 else loaders[0]
