"""Median training-step time of a BERT (default TinyBERT-4L) per binarization algorithm, vs FP32.

One step = forward + backward + Adam step with cross-entropy on a fixed batch of random
token ids (a quarter of each sequence padding). Binarized models get every algorithm's
linears (classifier kept) plus BiBERT's bi-attention and binarized word embedding, as in
BiBench (protocol and columns: ``step_timing.py``).

    python benchmarks/bert_step_time.py --threads 1 --steps 3 --algos bnn,reactnet,fda
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from step_timing import add_common_arguments, binarized_model, time_algorithms

from bibench_cli.models.bert import BERT_CONFIGS
from bibench_cli.models.inputs import TaskShape, TokenInput


def random_batch(batch_size: int, length: int, vocab_size: int) -> tuple:
    """(input_ids, token_type_ids, attention_mask, labels); the last quarter is padding."""
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1, vocab_size, (batch_size, length), generator=g)
    types = torch.zeros_like(ids)
    types[:, length // 2 :] = 1
    mask = torch.ones_like(ids)
    mask[:, length * 3 // 4 :] = 0
    return ids, types, mask, torch.randint(0, 2, (batch_size,), generator=g)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, steps=3, warmup=1, batch_size=32)
    parser.add_argument("--model", default="bert_tiny4", choices=list(BERT_CONFIGS))
    parser.add_argument("--seq-length", type=int, default=128)
    args = parser.parse_args()
    vocab = BERT_CONFIGS[args.model].vocab_size
    batch = random_batch(args.batch_size, args.seq_length, vocab)
    *inputs, labels = (t.to(args.device) for t in batch)
    shape = TaskShape(TokenInput(args.seq_length, vocab), {"num_labels": 2})
    example = tuple(t[:2] for t in inputs)
    time_algorithms(
        args,
        f"{args.model}, batch {args.batch_size} x {args.seq_length} tokens",
        lambda algo: binarized_model(args.model, shape, algo, example),
        lambda model: torch.optim.Adam(model.parameters(), lr=1e-4),
        lambda model: F.cross_entropy(model(*inputs), labels),
    )


if __name__ == "__main__":
    main()
