"""The speechcommands task: datamodule on demo data, the log-mel module kind, train() end to
end, and the demo + train command line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from conftest import compose_config
from torch import nn

from bibench_cli.data.errors import CorruptDatasetError, DataOptionError, DatasetNotFoundError
from bibench_cli.data.logmel import LogMelSpectrogram
from bibench_cli.data.speechcommands import SILENCE
from bibench_cli.data.speechcommands_datamodule import EpochSampler, SpeechCommandsDataModule
from bibench_cli.engine.train import train
from bibench_cli.models import build_model
from bibench_cli.runs.record import read_record
from bibench_cli.tasks import get_task
from bibench_cli.tasks.classification import TOP1
from bibench_cli.tasks.speech import LOGMEL_INPUT, SpeechModule

REPO = Path(__file__).resolve().parents[1]
RELEASE = "speech_commands_v0.01"
# one torch thread: with other processes on the cores, two threads run a step ~10x slower
TINY = ("task=speechcommands", "task.batch_size=16", "trainer.max_epochs=1",
        "trainer.limit_train_batches=2", "trainer.limit_val_batches=1",
        "trainer.limit_test_batches=1", "trainer.log_every_n_steps=1",
        "trainer.threads=1")  # fmt: skip


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """The demo release as ``bibench data demo`` writes it."""
    root = tmp_path_factory.mktemp("speech")
    assert RELEASE in get_task("speechcommands").demo(root, 0)
    return root


def datamodule(root: Path, **options) -> SpeechCommandsDataModule:
    options = {"batch_size": 16, **options}
    dm = get_task("speechcommands").build_datamodule(options, root=root, seed=0, num_workers=0)
    dm.setup("fit")
    return dm


def first_batch(dm: SpeechCommandsDataModule) -> tuple[torch.Tensor, torch.Tensor]:
    return next(iter(dm.train_dataloader()))


def test_batches_are_one_second_waveforms_and_class_indices(root: Path):
    dm = datamodule(root)
    for loader in (dm.train_dataloader(), dm.val_dataloader(), dm.test_dataloader()):
        waves, labels = next(iter(loader))
        assert waves.shape == (16, 16_000) and waves.dtype == torch.float32
        assert labels.dtype == torch.int64 and labels.min() >= 0 and labels.max() < 12
    assert [len(dm.datasets[s]) for s in ("train", "val", "test")] == [79, 26, 26]
    val_waves, _ = next(iter(dm.val_dataloader()))  # evaluation: list order, no augmentation
    assert torch.equal(val_waves[0], dm.datasets["val"][0][0])


def test_training_order_and_augmentation_follow_seed_and_epoch(root: Path):
    first, again = first_batch(datamodule(root)), first_batch(datamodule(root))
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    dm = datamodule(root)
    loader = dm.train_dataloader()
    loader.sampler.set_epoch(1)
    epoch1 = next(iter(loader))
    assert not torch.equal(epoch1[1], first[1])  # another order
    assert int(dm.datasets["train"]._epoch) == 1  # the augmentation's epoch followed
    unaugmented = first_batch(datamodule(root, augment=False))
    assert torch.equal(unaugmented[1], first[1]) and not torch.equal(unaugmented[0], first[0])


def test_sampler_counts_epochs_nobody_announced(root: Path):
    dataset = datamodule(root).datasets["train"]
    sampler = EpochSampler(dataset, seed=0)
    orders = [list(sampler) for _ in range(2)]
    assert sampler.epoch == 1 and orders[0] != orders[1]
    sampler.set_epoch(0)
    assert list(sampler) == orders[0] and sorted(orders[0]) == list(range(len(dataset)))


class _Recorder(pl.LightningModule):
    """Records the training dataset's epoch at every step."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(16_000, 12)
        self.epochs: list[int] = []

    def training_step(self, batch, batch_idx):
        self.epochs.append(int(self.trainer.datamodule.datasets["train"]._epoch))
        return nn.functional.cross_entropy(self.layer(batch[0]), batch[1])

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.0)


def test_lightning_sets_the_epoch_before_each_epoch(root: Path, tmp_path: Path, monkeypatch):
    announced = []
    set_epoch = EpochSampler.set_epoch
    monkeypatch.setattr(
        EpochSampler,
        "set_epoch",
        lambda self, epoch: [announced.append(epoch), set_epoch(self, epoch)],
    )
    recorder = _Recorder()
    trainer = pl.Trainer(
        max_epochs=3, limit_train_batches=2, limit_val_batches=0, logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        default_root_dir=tmp_path,
    )  # fmt: skip
    trainer.fit(recorder, datamodule=datamodule(root))
    assert announced == [0, 1, 2]  # by Lightning, not counted by the sampler itself
    assert recorder.epochs == [0, 0, 1, 1, 2, 2]


def test_noise_silence_comes_from_the_background_recordings(root: Path):
    for mode, silent in (("zeros", True), ("noise", False)):
        test = datamodule(root, silence=mode).datasets["test"]
        waves = [test[i][0] for i, clip in enumerate(test.split.clips) if clip.label == SILENCE]
        assert len(waves) == 2 and all(bool(w.abs().max() == 0) == silent for w in waves)


def test_bad_options_and_missing_release_are_one_line(root: Path, tmp_path: Path):
    with pytest.raises(DataOptionError, match=r"task.data.silence='quiet'.*zeros, noise"):
        datamodule(root, silence="quiet")
    with pytest.raises(DataOptionError, match=r"task.data.version='v3'.*speech_commands_v0.02"):
        datamodule(root, version="v3")
    dm = get_task("speechcommands").build_datamodule({}, root=tmp_path, seed=0)
    with pytest.raises(DatasetNotFoundError, match="download http.*speech_commands_v0.01"):
        dm.check_data()


def test_module_runs_the_log_mel_front_end_before_the_model():
    torch.manual_seed(0)
    model = build_model("dfsmn", get_task("speechcommands").shape({}, None)).eval()
    module = SpeechModule(model, {}, (TOP1,), get_task("speechcommands").shape({}, None))
    waves = torch.randn(3, 16_000) * 0.1
    with torch.no_grad():
        torch.testing.assert_close(module(waves), model(LogMelSpectrogram()(waves)))
    assert not [key for key in module.state_dict() if not key.startswith(("model.", "metrics."))]
    assert LOGMEL_INPUT.example(1).shape == LogMelSpectrogram()(waves[:1]).shape


def test_fp32_and_binarized_runs_complete_with_their_records(root: Path, tmp_path: Path):
    common = (f"paths.outputs={tmp_path}", f"data.root={root}", "arch=dfsmn", *TINY)
    fp32 = train(compose_config("algo=fp32", "task.data.silence=noise", *common)).record
    bnn = train(compose_config("algo=bnn", "task.data.silence=noise", *common)).record
    assert fp32.status == bnn.status == "completed", (fp32.error, bnn.error)
    assert bnn.init_checkpoint == fp32.checkpoint  # fine-tuned from the FP32 run
    for record in (fp32, bnn):
        assert record.metric == "acc" and record.primary_metric == "test/acc"
        assert 0.0 <= record.primary <= 100.0
        assert record.config["task"]["data"]["silence"] == "noise"  # where a user looks
        assert record.params["fp32_model"] == 600_236 and record.flops["fp32_model"] > 0
    assert fp32.optimizer == "sgd" and fp32.lr == 1e-3 and bnn.lr == 5e-3
    assert bnn.config["recipe"]["warmup"] == pytest.approx(5 / 300)
    assert bnn.params["binary"] == 542_208 and bnn.r_c > 1 and bnn.r_s > 1
    layers = (Path(bnn.run_dir) / "binarize.txt").read_text()
    assert "25 layers binarized, 3 kept full precision, 27 ReLU -> prelu" in layers
    assert read_record(Path(bnn.run_dir) / "result.json").status == "completed"


def test_malformed_wav_stops_the_run_before_it_starts(root: Path, tmp_path: Path):
    data = tmp_path / "data"
    shutil.copytree(root, data)
    # a test clip: read only after training if setup did not read every clip
    bad = data / RELEASE / (data / RELEASE / "testing_list.txt").read_text().split()[0]
    bad.write_bytes(bad.read_bytes()[:1000])
    cfg = compose_config(f"paths.outputs={tmp_path / 'out'}", f"data.root={data}", "algo=fp32",
                         "arch=fsmn", *TINY)  # fmt: skip
    with pytest.raises(CorruptDatasetError, match=f"bad WAV file {bad}: truncated"):
        train(cfg)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_demo_then_train_on_the_command_line(tmp_path: Path):
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONPATH": str(REPO)}
    cli = [sys.executable, "-m", "bibench_cli.cli"]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*cli, *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=300)  # fmt: skip

    demo = run("data", "demo", "--task", "speechcommands", "--root", "D")
    assert demo.returncode == 0 and RELEASE in demo.stdout, demo.stderr
    trained = run("train", "task=speechcommands", "arch=dfsmn", "data.root=D", "trainer=debug",
                  "paths.outputs=out")  # fmt: skip
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert "reactnet/dfsmn/speechcommands: completed" in trained.stdout
