"""FP32-pretrain reuse (paper section 4): every binarized model of an architecture and task is
finetuned from the same full-precision model.

The FP32 run is an ordinary run with its own record. It is looked up by config hash under the
outputs root (any experiment), and trained first when missing, under a file lock so parallel
jobs (joblib, SLURM) wait for one training instead of each starting their own.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path

from omegaconf import DictConfig, OmegaConf, open_dict

from bibench_cli import catalog
from bibench_cli.engine.identity import identity, run_subdir
from bibench_cli.engine.locks import run_lock
from bibench_cli.engine.record import RESULT_FILE, try_read_record

log = logging.getLogger("bibench")

MODEL_FILE = "model.pt"
PRETRAIN_SEED = 0  # one shared FP32 model per (arch, task, data recipe), whatever the run's seed


def fp32_config(cfg: DictConfig) -> DictConfig:
    """The FP32 run a binarized ``cfg`` starts from: same arch/task/data/trainer, FP32 recipe."""
    fp32 = copy.deepcopy(cfg)
    with open_dict(fp32):
        fp32.algo = OmegaConf.merge(fp32.algo, catalog.option("algo", "fp32"))
        fp32.optim = OmegaConf.merge(fp32.optim, catalog.option("optim", "auto"))
        fp32.sched = OmegaConf.merge(fp32.sched, catalog.option("sched", "auto"))
        fp32.init.mode = "scratch"
        fp32.init.checkpoint = None
        fp32.seed = PRETRAIN_SEED
        fp32.force = False
    return fp32


def find_completed(cfg: DictConfig) -> Path | None:
    """``result.json`` of a completed run with ``cfg``'s hash in any experiment, if one exists."""
    outputs = Path(cfg.paths.outputs)
    tail = Path(*Path(run_subdir(cfg)).parts[1:])  # without the experiment folder
    wanted = identity(cfg)["config_hash"]
    for path in sorted(outputs.glob(f"*/{tail}/{RESULT_FILE}")):
        record = try_read_record(path)
        done = record is not None and record.status == "completed"
        done = done and record.config_hash == wanted
        if done and (path.parent / MODEL_FILE).is_file():
            return path
    return None


def ensure_fp32_checkpoint(cfg: DictConfig) -> Path:
    """Path of the FP32 weights for binarized ``cfg``, training that FP32 run if needed."""
    from bibench_cli.engine.train import train  # the FP32 run is an ordinary run

    fp32 = fp32_config(cfg)
    with run_lock(fp32):  # the lock train() takes too: parallel jobs wait, then reuse
        found = find_completed(fp32)
        if found is None:
            log.info("no completed FP32 run for %s; training it first", run_subdir(fp32))
            result = train(fp32)
            if result.record.status != "completed":
                reason = (result.record.error or "no error text").strip().splitlines()[-1]
                raise RuntimeError(
                    f"FP32 pretrain {result.record.status} ({reason}): {result.path}"
                )
            found = result.path
        else:
            log.info("reusing FP32 run %s", found.parent)
    return found.parent / MODEL_FILE
