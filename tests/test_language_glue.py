"""GLUE readers on official-layout files, the demo writer, tokenisation against transformers'
BertTokenizer (test-only reference) and BERT's pair truncation."""

from __future__ import annotations

import json

import pytest
import torch
import transformers
from conftest import compose_config

from bibench_cli.data.errors import CorruptDatasetError, DataOptionError, DatasetNotFoundError
from bibench_cli.data.glue import (
    DEMO_MARKERS,
    GLUE_TASKS,
    encode_glue,
    load_tokenizer,
    read_glue,
    truncate_pair,
    write_demo_glue,
)
from bibench_cli.models.bert import load_bert_classifier
from bibench_cli.runs.identity import resolve
from bibench_cli.tasks.glue import write_demo_checkpoint

MNLI_PARSES = "( ( a b ) c )\t( d e )\t(ROOT (S (NN a)))\t(ROOT (S (NN d)))"
# (folder, file, content, expected texts_a, texts_b, labels): rows as in the official files
OFFICIAL = {
    "cola": (
        "CoLA",
        "train.tsv",
        "gj04\t1\t\tOur friends won't buy this analysis, let alone the next one we propose.\n"
        "gj04\t0\t*\tThey drank the pub.\n",
        ["Our friends won't buy this analysis, let alone the next one we propose.",
         "They drank the pub."],
        None,
        [1, 0],
    ),
    "sst2": (
        "SST-2",
        "train.tsv",
        "sentence\tlabel\nhide new secretions from the parental units \t0\n",
        ["hide new secretions from the parental units "],
        None,
        [0],
    ),
    "mrpc": (
        "MRPC",
        "dev.tsv",
        "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
        '1\t702876\t702977\tAmrozi accused his brother , whom he called " the witness " .\t'
        'Referring to him as only " the witness " , Amrozi accused his brother .\n',
        ['Amrozi accused his brother , whom he called " the witness " .'],
        ['Referring to him as only " the witness " , Amrozi accused his brother .'],
        [1],
    ),
    "stsb": (
        "STS-B",
        "train.tsv",
        "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n"
        "0\tmain-captions\tMSRvid\t2012test\t0001\tnone\tnone\tA plane is taking off.\t"
        "An air plane is taking off.\t5.000\n",
        ["A plane is taking off."],
        ["An air plane is taking off."],
        [5.0],
    ),
    "qqp": (
        "QQP",
        "train.tsv",
        "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
        "133273\t213221\t213222\tHow is the life of a math student?\tWhich level is enough?\t0\n",
        ["How is the life of a math student?"],
        ["Which level is enough?"],
        [0],
    ),
    "mnli": (
        "MNLI",
        "dev_mismatched.tsv",
        "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
        "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tlabel2\tlabel3\tlabel4\t"
        "label5\tgold_label\n"
        f"0\t63735\t63735n\tslate\t{MNLI_PARSES}\tThe new rights are nice enough\t"
        "Everyone really likes the newest benefits \tneutral\tentailment\tneutral\tneutral\t"
        "neutral\tneutral\n",
        ["The new rights are nice enough"],
        ["Everyone really likes the newest benefits "],
        [2],
    ),
    "qnli": (
        "QNLI",
        "dev.tsv",
        "index\tquestion\tsentence\tlabel\n"
        "0\tWhen did the third Digimon series begin?\tUnlike the two seasons before it.\t"
        "not_entailment\n",
        ["When did the third Digimon series begin?"],
        ["Unlike the two seasons before it."],
        [1],
    ),
    "rte": (
        "RTE",
        "train.tsv",
        "index\tsentence1\tsentence2\tlabel\n"
        "0\tNo Weapons of Mass Destruction Found in Iraq Yet.\t"
        "Weapons of Mass Destruction Found in Iraq.\tnot_entailment\n",
        ["No Weapons of Mass Destruction Found in Iraq Yet."],
        ["Weapons of Mass Destruction Found in Iraq."],
        [1],
    ),
    "wnli": (
        "WNLI",
        "train.tsv",
        "index\tsentence1\tsentence2\tlabel\n"
        "0\tI stuck a pin through a carrot.\tThe carrot had a hole.\t1\n",
        ["I stuck a pin through a carrot."],
        ["The carrot had a hole."],
        [1],
    ),
}  # fmt: skip


@pytest.mark.parametrize("task", list(OFFICIAL))
def test_reads_rows_in_the_official_layout(tmp_path, task):
    folder, filename, content, texts_a, texts_b, labels = OFFICIAL[task]
    (tmp_path / folder).mkdir()
    (tmp_path / folder / filename).write_text(content, encoding="utf-8")
    split = {"train.tsv": "train", "dev.tsv": "dev"}.get(filename, "dev_mismatched")
    examples = read_glue(tmp_path, task, split)
    assert (examples.texts_a, examples.texts_b, examples.labels) == (texts_a, texts_b, labels)
    assert examples.skipped == 0


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    write_demo_glue(root / "glue", train_size=24, dev_size=12)
    write_demo_checkpoint(root / "checkpoint")
    return root


def test_demo_set_covers_every_task_and_split_with_a_learnable_rule(demo):
    for task, spec in GLUE_TASKS.items():
        assert set(spec.eval_splits) == (
            {"dev_matched", "dev_mismatched"} if task == "mnli" else {"dev"}
        )
        for split in spec.files:
            examples = read_glue(demo / "glue", task, split)
            assert len(examples.labels) == (24 if split == "train" else 12)
            assert examples.skipped == 0
            assert set(examples.labels) == set(range(6 if spec.regression else spec.num_labels))
            pairs = examples.texts_b or [""] * len(examples.texts_a)
            for a, b, label in zip(examples.texts_a, pairs, examples.labels, strict=True):
                markers = [w for w in f"{a} {b}".split() if w in DEMO_MARKERS]
                assert markers == [DEMO_MARKERS[int(label)]]


def test_demo_writer_is_deterministic(tmp_path):
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        write_demo_glue(tmp_path / name, seed=seed, train_size=8, dev_size=4)
        write_demo_checkpoint(tmp_path / name / "ckpt", seed=seed)
    for relative in ("MNLI/train.tsv", "CoLA/dev.tsv", "ckpt/model.safetensors"):
        same = (tmp_path / "a" / relative).read_bytes() == (tmp_path / "b" / relative).read_bytes()
        other = (tmp_path / "a" / relative).read_bytes() == (tmp_path / "c" / relative).read_bytes()
        assert same and not other


def test_cola_has_no_header(demo):
    first = (demo / "glue" / "CoLA" / "train.tsv").read_text().splitlines()[0].split("\t")
    assert len(first) == 4 and first[1] in ("0", "1")
    assert read_glue(demo / "glue", "cola", "train").texts_a[0] == first[3]


def test_malformed_qqp_rows_are_skipped_and_counted_elsewhere_an_error(tmp_path):
    write_demo_glue(tmp_path, train_size=10, dev_size=4)
    with (tmp_path / "QQP" / "train.tsv").open("a") as handle:
        handle.write("99\t1\t2\ta question cut short\n")  # 4 of 6 columns
        handle.write("100\t3\t4\tq1\tq2\tmaybe\n")  # not a label
    examples = read_glue(tmp_path, "qqp", "train")
    assert (len(examples.labels), examples.skipped) == (10, 2)

    mrpc = tmp_path / "MRPC" / "train.tsv"
    with mrpc.open("a") as handle:
        handle.write("1\t5\t6\tonly one string\n")
    with pytest.raises(CorruptDatasetError, match=rf"{mrpc}:12: 4 columns, expected at least 5"):
        read_glue(tmp_path, "mrpc", "train")


def test_mnli_has_two_dev_files_and_a_missing_one_says_where_to_get_it(tmp_path):
    write_demo_glue(tmp_path, train_size=6, dev_size=3)
    matched = read_glue(tmp_path, "mnli", "dev_matched")
    mismatched = read_glue(tmp_path, "mnli", "dev_mismatched")
    assert matched.texts_a != mismatched.texts_a
    assert matched.path.name == "dev_matched.tsv" and mismatched.path.name == "dev_mismatched.tsv"
    (tmp_path / "MNLI" / "dev_mismatched.tsv").unlink()
    with pytest.raises(DatasetNotFoundError) as error:
        read_glue(tmp_path, "mnli", "dev_mismatched")
    message = str(error.value)
    assert "\n" not in message
    for needed in (
        str(tmp_path / "MNLI" / "dev_mismatched.tsv"),
        "download_glue_data.py",
        "https://gluebenchmark.com",
    ):
        assert needed in message
    with pytest.raises(DataOptionError, match="unknown GLUE task 'sst-2'"):
        read_glue(tmp_path, "sst-2", "train")
    with pytest.raises(ValueError, match="not 'dev'"):
        read_glue(tmp_path, "mnli", "dev")


# BiBERT's quant_task_glue.py defaults and its scripts/ learning rates, per subtask:
# (epochs, max_seq_length, batch_size, binarized lr); WNLI (in neither) takes RTE's.
BIBERT = {
    "cola": (50, 64, 16, 1e-4),
    "sst2": (10, 64, 32, 1e-4),
    "mrpc": (20, 128, 32, 2e-4),
    "stsb": (20, 128, 32, 1e-4),
    "qqp": (5, 128, 32, 1e-4),
    "mnli": (5, 128, 32, 5e-5),
    "qnli": (10, 128, 32, 1e-4),
    "rte": (20, 128, 32, 1e-5),
    "wnli": (20, 128, 32, 1e-5),
}


def test_task_config_composes_bibert_s_recipe_for_every_subtask():
    assert set(BIBERT) == set(GLUE_TASKS)
    for subtask, (epochs, length, batch, lr) in BIBERT.items():
        for algo, expected_lr in (("bnn", lr), ("fp32", 2e-5)):
            cfg = compose_config("task=glue", f"task.subtask={subtask}", f"algo={algo}")
            recipe = resolve(cfg).config["recipe"]
            assert (cfg.trainer.max_epochs, cfg.task.data.max_seq_length) == (epochs, length)
            assert cfg.task.batch_size == batch
            assert recipe == {
                "optimizer": "adamw",
                "lr": expected_lr,
                "weight_decay": 0.01,
                "scheduler": "linear",
                "warmup": 0.1,
            }


VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", ",", "world", "!", "don", "'",
         "t", "stop", "-", "believ", "##ing", ".", "naive", "cafe", "un", "##believ", "##able",
         "thing", "##s", "the", "w"]  # fmt: skip
TEXTS_A = ["Hello, World! Don't stop-believing.", "naïve CAFÉ", "unbelievable things", "x"]
TEXTS_B = ["the things", "Hello", "", "World!!"]


def _checkpoint_with_vocab(directory, lowercase=None):
    write_demo_checkpoint(directory)
    (directory / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    if lowercase is not None:
        (directory / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": lowercase}))
    return directory


@pytest.mark.parametrize("lowercase", [True, False])
@pytest.mark.parametrize("pairs", [False, True])
def test_token_ids_match_transformers_bert_tokenizer(tmp_path, lowercase, pairs, demo):
    checkpoint = _checkpoint_with_vocab(tmp_path, lowercase)
    examples = read_glue(demo / "glue", "rte" if pairs else "sst2", "dev")
    examples = type(examples)(TEXTS_A, TEXTS_B if pairs else None, [0] * 4, 0, examples.path)
    ours = encode_glue(examples, load_tokenizer(checkpoint), max_seq_length=24)
    reference = transformers.BertTokenizer.from_pretrained(checkpoint)(
        TEXTS_A,
        TEXTS_B if pairs else None,
        padding="max_length",
        max_length=24,
        return_tensors="pt",
    )
    assert reference["input_ids"][0, :3].tolist() == [2, 5 if lowercase else 1, 6]
    for name in ("input_ids", "token_type_ids", "attention_mask"):
        assert torch.equal(getattr(ours, name), reference[name]), name


def test_truncation_is_bert_s_longest_first_with_ties_cut_from_the_second():
    assert truncate_pair(5, 5, 7) == (4, 3)
    assert truncate_pair(10, 2, 6) == (4, 2)
    assert truncate_pair(1, 9, 5) == (1, 4)
    assert truncate_pair(3, 2, 9) == (3, 2)


def test_encoding_truncates_and_types_labels(tmp_path, demo):
    tokenizer = load_tokenizer(_checkpoint_with_vocab(tmp_path))
    w = tokenizer.token_to_id("w")
    pairs = read_glue(demo / "glue", "stsb", "dev")
    pairs = type(pairs)(["w " * 5], ["w " * 5], [3.5], 0, pairs.path)
    encoded = encode_glue(pairs, tokenizer, max_seq_length=10)  # 7 word pieces: 4 + 3
    assert encoded.input_ids[0].tolist() == [2, w, w, w, w, 3, w, w, w, 3]
    assert encoded.token_type_ids[0].tolist() == [0] * 6 + [1] * 4
    assert encoded.labels.dtype == torch.float32 and encoded.labels.tolist() == [3.5]
    single = read_glue(demo / "glue", "cola", "dev")
    encoded = encode_glue(single, load_tokenizer(demo / "checkpoint"), max_seq_length=4)
    assert encoded.input_ids.shape == (12, 4) and encoded.labels.dtype == torch.int64
    assert (encoded.input_ids[:, -1] == 3).all() and encoded.attention_mask.all()


def test_demo_checkpoint_loads_and_covers_the_demo_words(demo):
    tokenizer = load_tokenizer(demo / "checkpoint")
    examples = read_glue(demo / "glue", "mnli", "train")
    encoded = encode_glue(examples, tokenizer, max_seq_length=32)
    assert not (encoded.input_ids == tokenizer.token_to_id("[UNK]")).any()
    loaded = load_bert_classifier(demo / "checkpoint", num_labels=3)
    assert loaded.initialised == ["classifier.weight", "classifier.bias"]
    assert loaded.model(*encoded[:3]).shape == (24, 3)
