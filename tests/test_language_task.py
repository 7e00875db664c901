"""GLUE wired into the engine: the datamodule on demo data, the module kind's losses, runs
through ``train()`` (FP32 teacher, distilled binarized students, MNLI's two dev sets), one-line
errors, and the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from conftest import bibench, compose_config
from test_train import tiny_cfg

from bibench_cli.data.errors import DataOptionError, DatasetNotFoundError
from bibench_cli.data.glue import DEMO_WORDS, SPECIAL_TOKENS
from bibench_cli.data.glue_datamodule import GlueDataModule
from bibench_cli.engine.build import arch_checkpoint
from bibench_cli.engine.train import prepare, train
from bibench_cli.engine.validate import check_runnable
from bibench_cli.errors import BibenchError
from bibench_cli.models.bert import BertConfig, BertForSequenceClassification
from bibench_cli.models.distill import direction_matching_losses, prediction_distillation_loss
from bibench_cli.models.inputs import TaskShape, TokenInput
from bibench_cli.tasks import get_task
from bibench_cli.tasks.glue import DEMO_CHECKPOINT, GlueModule, write_glue_demo

VOCAB_SIZE = len(SPECIAL_TOKENS) + len(DEMO_WORDS)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("glue")
    write_glue_demo(root)
    return root


def _datamodule(demo, subtask, **options):
    options = {"checkpoint": str(demo / DEMO_CHECKPOINT), "batch_size": 8, **options}
    return GlueDataModule(root=demo, subtask=subtask, max_seq_length=24, **options)


def test_datamodule_batches_and_seeded_shuffling(demo):
    datamodule = _datamodule(demo, "mrpc", seed=3)
    datamodule.setup("fit")
    ids, types, mask, labels = next(iter(datamodule.train_dataloader()))
    assert ids.shape == types.shape == mask.shape == (8, 24) and labels.shape == (8,)
    assert labels.dtype == torch.int64 and (ids[:, 0] == SPECIAL_TOKENS.index("[CLS]")).all()
    assert types.max() == 1  # sentence pairs: the second segment is type 1
    assert datamodule.vocab_size == VOCAB_SIZE and datamodule.test_sets == ("mrpc",)

    def first_batch(seed):
        module = _datamodule(demo, "mrpc", seed=seed)
        return next(iter(module.train_dataloader()))[0]

    assert torch.equal(first_batch(3), ids) and not torch.equal(first_batch(4), ids)
    val = next(iter(datamodule.val_dataloader()))[0]
    assert torch.equal(val, next(iter(datamodule.test_dataloader()))[0])  # both the dev set


def test_stsb_has_float_scores_and_mnli_tests_on_both_dev_sets(demo):
    stsb = _datamodule(demo, "stsb")
    assert next(iter(stsb.train_dataloader()))[3].dtype == torch.float32
    mnli = _datamodule(demo, "mnli")
    loaders = mnli.test_dataloader()
    assert mnli.test_sets == ("mnli-m", "mnli-mm") and len(loaders) == 2
    matched, mismatched = (next(iter(loader))[0] for loader in loaders)
    assert torch.equal(next(iter(mnli.val_dataloader()))[0], matched)
    assert not torch.equal(matched, mismatched)


def test_vocabulary_is_the_checkpoint_s_or_named_by_task_data_vocab(demo):
    vocab = demo / DEMO_CHECKPOINT / "vocab.txt"
    for source in (vocab, vocab.parent):  # a vocab.txt, or the directory holding one
        module = _datamodule(demo, "rte", checkpoint=None, vocab=str(source))
        module.setup()
        assert module.vocab_size == VOCAB_SIZE
    with pytest.raises(DataOptionError, match="task.data.vocab=FILE") as error:
        _datamodule(demo, "rte", checkpoint=None).check_data()
    assert "\n" not in str(error.value) and "arch.checkpoint=DIR" in str(error.value)
    with pytest.raises(DataOptionError, match="unset task.data.vocab"):
        _datamodule(demo, "rte", vocab=str(vocab)).check_data()
    with pytest.raises(DatasetNotFoundError, match="no WordPiece vocabulary"):
        _datamodule(demo, "rte", checkpoint=None, vocab=str(demo)).check_data()


def test_missing_glue_names_the_official_layout(demo, tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"glue_data/ holding CoLA/.*download_glue"):
        GlueDataModule(root=tmp_path, subtask="cola").check_data()
    (tmp_path / "glue_data" / "QNLI").mkdir(parents=True)
    with pytest.raises(DatasetNotFoundError, match=r"QNLI train not found"):
        GlueDataModule(root=tmp_path, subtask="qnli").check_data()


# --- the module kind ---------------------------------------------------------------------

CONFIG = BertConfig(
    vocab_size=12,
    hidden_size=8,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=16,
    max_position_embeddings=8,
    hidden_dropout_prob=0.0,
    attention_probs_dropout_prob=0.0,
)


def _module(distill, num_labels=3, teacher=True):
    torch.manual_seed(0)
    student = BertForSequenceClassification(CONFIG, num_labels)
    teacher_model = BertForSequenceClassification(CONFIG, num_labels) if teacher else None
    shape = TaskShape(TokenInput(6), {"num_labels": num_labels})
    metrics = get_task("glue").metrics_for("stsb" if num_labels == 1 else "mnli")
    recipe = {"optimizer": "adamw", "lr": 1e-4, "scheduler": "linear"}
    return GlueModule(student, recipe, metrics, shape, teacher_model, distill)


def _batch(regression=False):
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1, 12, (4, 6), generator=g)
    labels = torch.rand(4, generator=g) * 5 if regression else torch.tensor([0, 2, 1, 2])
    return ids, torch.zeros_like(ids), torch.ones_like(ids), labels


def test_training_loss_follows_the_distill_mode():
    batch = _batch()
    *inputs, labels = batch
    kd = _module("kd")
    with torch.no_grad():
        targets, teacher_internals = kd.teacher.forward_with_internals(*inputs)
    outputs, internals = kd.model.forward_with_internals(*inputs)
    expected_kd = prediction_distillation_loss(outputs, targets, labels)
    dmd_terms = direction_matching_losses(internals, teacher_internals)
    torch.testing.assert_close(kd.training_loss(batch), expected_kd)
    torch.testing.assert_close(
        _module("dmd").training_loss(batch), expected_kd + sum(dmd_terms.values())
    )
    assert all(term > 0 for term in dmd_terms.values())  # the student differs from the teacher
    for module in (_module("none"), _module("kd", teacher=False)):  # FP32 runs have no teacher
        torch.testing.assert_close(module.training_loss(batch), F.cross_entropy(outputs, labels))


def test_regression_trains_on_the_mse_of_the_single_output():
    batch = _batch(regression=True)
    module = _module("none", num_labels=1)
    outputs = module.model(*batch[:3])
    assert outputs.shape == (4, 1)
    torch.testing.assert_close(module.training_loss(batch), F.mse_loss(outputs[:, 0], batch[3]))


# --- runs through the engine -------------------------------------------------------------


def glue_cfg(outputs, demo, *overrides):
    """A GLUE run of the demo BERT: one epoch of at most 3 batches, short sequences."""
    return tiny_cfg(
        outputs,
        "task=glue",
        "arch=bert_tiny4",
        f"arch.checkpoint={demo / DEMO_CHECKPOINT}",
        f"data.root={demo}",
        "task.data.max_seq_length=32",
        "task.batch_size=16",
        "trainer.limit_train_batches=2",
        *overrides,
    )


def test_binarized_mnli_run_distils_from_its_fp32_teacher(tmp_path, demo):
    """xnor with direction-matching distillation; MNLI reports its two dev sets."""
    overrides = ("task.subtask=mnli", "algo=xnor", "distill=dmd")
    result = train(glue_cfg(tmp_path, demo, *overrides))
    record = result.record
    assert record.status == "completed", record.error
    assert (record.metric, record.primary_metric, record.subtask) == ("acc", "test/acc", "mnli")
    assert set(record.subtasks) == {"mnli-m", "mnli-mm"}
    assert record.subtasks["mnli-m"] == record.primary == record.metrics["test/acc"]
    assert record.subtasks["mnli-mm"] == record.metrics["test/mnli-mm/acc"]
    teacher = result.baseline
    assert teacher.algo == "fp32" and teacher.init_checkpoint.endswith(DEMO_CHECKPOINT)
    assert set(teacher.subtasks) == {"mnli-m", "mnli-mm"}
    assert record.init_checkpoint == teacher.checkpoint and record.baseline_id == teacher.run_id
    assert record.params["binary"] > 0 and record.flops["binary"] > 0 and record.r_s > 1
    assert record.flops["fp32_model"] == teacher.flops["fp32_model"]
    report = (result.path.parent / "binarize.txt").read_text()
    assert "bert.encoder.layer.1.attention.self.core" in report and "-> BiAttention" in report
    assert "classifier" in report and "task head" in report


def test_stsb_regression_reports_pearson_then_spearman(tmp_path, demo):
    record = train(glue_cfg(tmp_path, demo, "task.subtask=stsb", "algo=fp32")).record
    assert record.status == "completed", record.error
    assert record.metric == "pearson" and "test/spearman" in record.metrics


def test_random_start_tokenises_with_task_data_vocab(tmp_path, demo):
    """arch.checkpoint=none: the preset's sizes, its embedding sized to the named vocabulary;
    no pretrained start is loaded."""
    vocab = demo / DEMO_CHECKPOINT / "vocab.txt"
    cfg = glue_cfg(
        tmp_path, demo, "task.subtask=cola", "arch.checkpoint=none", f"task.data.vocab={vocab}"
    )
    check_runnable(cfg)
    prepared = prepare(cfg)
    assert prepared.datamodule.vocab_size == VOCAB_SIZE
    bert = prepared.built.model.bert
    assert bert.embeddings.word_embeddings.weight.shape == (VOCAB_SIZE, 312)  # bert_tiny4
    assert len(bert.encoder.layer) == 4
    assert arch_checkpoint(cfg) is None  # nothing to load: random init


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (("task.subtask=cola",), "arch.checkpoint=DIR, a directory with config.json"),
        (("task.subtask=cola", "arch.checkpoint=none"), "task.data.vocab=FILE"),
        ((), "task 'glue' needs task.subtask, one of cola, sst2, mrpc"),
        (("task.subtask=mnli-mm",), "needs task.subtask"),
        (("task.subtask=rte", "arch=resnet20"), "cannot take token input"),
        (
            (
                "task.subtask=rte",
                "arch.checkpoint={demo}/bert_demo",
                "task.data.max_seq_length=200",
            ),
            "max_seq_length 200 exceeds the 128 positions of the checkpoint",
        ),
        (("task.subtask=rte", "arch.checkpoint={demo}/glue_data"), "lacks config.json"),
    ],
)
def test_bad_glue_input_is_one_line(demo, overrides, message):
    overrides = [override.format(demo=demo) for override in overrides]
    cfg = compose_config("task=glue", "arch=bert_tiny4", f"data.root={demo}", *overrides)
    with pytest.raises(BibenchError) as error:
        check_runnable(cfg)
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.slow
def test_demo_then_train_on_the_command_line(tmp_path):
    made = bibench("data", "demo", "--task", "glue", "--root", str(tmp_path / "d"), cwd=ROOT)
    assert made.returncode == 0, made.stderr
    trained = bibench(
        "train",
        "task=glue",
        "task.subtask=rte",
        "arch=bert_tiny4",
        f"arch.checkpoint={tmp_path / 'd' / DEMO_CHECKPOINT}",
        f"data.root={tmp_path / 'd'}",
        "algo=bnn",
        "trainer=debug",
        f"paths.outputs={tmp_path / 'out'}",
        cwd=ROOT,  # this checkout's bibench_cli, whichever one is installed
    )
    assert trained.returncode == 0, trained.stderr
    assert "bnn/bert_tiny4/glue: completed" in trained.stdout
    records = list((tmp_path / "out").glob("*/glue-rte/bert_tiny4/*/*/result.json"))
    assert {json.loads(path.read_text())["algo"] for path in records} == {"fp32", "bnn"}


@pytest.mark.slow
def test_a_glue_sweep_over_subtasks_on_demo_data_fills_the_report(tmp_path):
    """The issue's offline command: three subtasks (CoLA's MCC, STS-B's Pearson, MNLI's two
    dev sets) x FP32/BNN, then the report's GLUE row and Transformers family row."""
    demo = tmp_path / "d"
    assert bibench("data", "demo", "--task", "glue", "--root", str(demo), cwd=ROOT).returncode == 0
    swept = bibench(
        "sweep", "task=glue", "task.subtask=cola,stsb,mnli", "arch=bert_tiny4",
        f"arch.checkpoint={demo / DEMO_CHECKPOINT}", "algo=fp32,bnn", f"data.root={demo}",
        f"paths.outputs={tmp_path / 'out'}", cwd=ROOT,
    )  # fmt: skip
    assert swept.returncode == 0, swept.stderr[-3000:]
    assert "6/6 jobs done (0 skipped, 0 failed)" in swept.stderr
    report = bibench("report", str(tmp_path / "out"), "--format", "csv", cwd=ROOT)
    assert report.returncode == 0, report.stderr
    rows = [line.split(",") for line in report.stdout.splitlines()]
    assert any(r[1] == "task" and r[2].startswith("GLUE") and r[3] == "bnn" for r in rows)
    assert any(r[1] == "arch" and r[2] == "Transformers" and r[3] == "bnn" for r in rows)
