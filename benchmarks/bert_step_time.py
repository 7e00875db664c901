"""Median training-step time of a BERT (default TinyBERT-4L) per binarization algorithm, vs FP32.

One step = forward + backward + Adam step with cross-entropy on a fixed batch of random
token ids (a quarter of each sequence padding), with ``set_progress`` every step. Binarized
models get every algorithm's linears (classifier kept) plus BiBERT's bi-attention and
binarized word embedding, as in BiBench. Algorithms are interleaved step by step, so load
from other processes hits them alike.

    python benchmarks/bert_step_time.py --threads 1 --steps 3 --algos bnn,reactnet,fda
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from bibench_cli.binarize import BinarizePolicy, binarize, list_algorithms, set_progress
from bibench_cli.models.bert import BERT_CONFIGS, BINARIZED_MODULES, KEEP, build_bert


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bert_tiny4", choices=list(BERT_CONFIGS))
    parser.add_argument("--steps", type=int, default=3, help="timed steps per algorithm")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps per algorithm")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seq-length", type=int, default=128)
    parser.add_argument("--algos", default="", help="comma-separated names (default: all)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    return parser.parse_args()


class Runner:
    """One algorithm's model, optimizer and step."""

    def __init__(self, algo: str, model_name: str, batch: tuple, total: int) -> None:
        torch.manual_seed(0)
        self.model = build_bert(model_name, num_labels=2)
        if algo != "fp32":
            policy = BinarizePolicy(False, False, declared=KEEP, replacements=BINARIZED_MODULES)
            binarize(self.model, algo, policy, example_input=batch[:3])
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-4)
        self.batch, self.total, self.done = batch, total, 0
        self.times: list[float] = []
        self.cpu_times: list[float] = []

    def step(self, timed: bool) -> None:
        start, cpu_start = time.perf_counter(), time.process_time()
        set_progress(self.model, min(self.done / self.total, 1.0))
        self.optimizer.zero_grad(set_to_none=True)
        *inputs, labels = self.batch
        F.cross_entropy(self.model(*inputs), labels).backward()
        self.optimizer.step()
        self.done += 1
        if timed:
            self.times.append(time.perf_counter() - start)
            self.cpu_times.append(time.process_time() - cpu_start)


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
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    algos = [a for a in args.algos.split(",") if a] or list_algorithms()
    algos = ["fp32", *(a for a in algos if a != "fp32")]
    vocab = BERT_CONFIGS[args.model].vocab_size
    batch = random_batch(args.batch_size, args.seq_length, vocab)
    total = args.warmup + args.steps
    runners = {algo: Runner(algo, args.model, batch, total) for algo in algos}
    for step in range(total):
        for runner in runners.values():
            runner.step(timed=step >= args.warmup)
    fp32 = runners["fp32"]
    base = statistics.median(fp32.times)
    base_min = min(fp32.times)
    base_cpu = statistics.median(fp32.cpu_times)
    print(
        f"{args.model}, batch {args.batch_size} x {args.seq_length} tokens, {args.steps} steps, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}"
    )
    # ratio: of median wall times; min ratio: of fastest steps; cpu ratio: of median process
    # CPU times (with one thread, wall time less the time descheduled by other processes)
    print(f"{'algorithm':<10} {'median s':>9} {'ratio':>7} {'min ratio':>10} {'cpu ratio':>10}")
    for algo, runner in runners.items():
        median = statistics.median(runner.times)
        fastest = min(runner.times) / base_min
        cpu = statistics.median(runner.cpu_times) / base_cpu
        print(f"{algo:<10} {median:>9.2f} {median / base:>7.2f} {fastest:>10.2f} {cpu:>10.2f}")


if __name__ == "__main__":
    main()
