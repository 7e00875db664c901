"""The runs a run depends on, resolved before it starts (paper section 4): every binarized
model of an architecture and task is fine-tuned from the same full-precision model, which
is also its teacher where a task distils.

The FP32 run is an ordinary run with its own record. It is looked up by run id under the
outputs root (any experiment) and trained first when missing, under its run lock, so
parallel jobs (joblib, SLURM) wait for one training instead of each starting their own.
"""

from __future__ import annotations

import copy

from omegaconf import DictConfig, OmegaConf, open_dict

from bibench_cli import catalog
from bibench_cli.runs.identity import FP32

PRETRAIN_SEED = 0  # one shared FP32 model per (arch, task, data recipe), whatever the run's seed


def fp32_config(cfg: DictConfig) -> DictConfig:
    """The FP32 run a binarized ``cfg`` starts from: same arch/task/data/trainer, FP32 recipe."""
    fp32 = copy.deepcopy(cfg)
    with open_dict(fp32):
        fp32.algo = OmegaConf.merge(fp32.algo, catalog.option("algo", FP32))
        fp32.optim = OmegaConf.merge(fp32.optim, catalog.option("optim", "auto"))
        fp32.sched = OmegaConf.merge(fp32.sched, catalog.option("sched", "auto"))
        fp32.init.mode = "scratch"
        fp32.init.checkpoint = None
        fp32.seed = PRETRAIN_SEED
        fp32.force = False
    return fp32


def baseline_config(cfg: DictConfig) -> DictConfig | None:
    """The FP32 run ``cfg`` is fine-tuned from, or None (an FP32 run, ``init=scratch``, or an
    explicit ``init.checkpoint``)."""
    if cfg.algo.name == FP32 or cfg.init.mode != "fp32" or cfg.init.checkpoint:
        return None
    return fp32_config(cfg)
