"""The CIFAR-10-C reader on a tiny fake release in the official layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bibench_cli.data.cifar10c import available_cifar10c, load_cifar10c
from bibench_cli.data.errors import CorruptDatasetError, DatasetNotFoundError

PER_SEVERITY = 4


def fake_images(corruption_id: int) -> np.ndarray:
    """5 severities × 4 images; pixel (0, 0, 0) encodes corruption, severity and index."""
    images = np.zeros((5 * PER_SEVERITY, 32, 32, 3), dtype=np.uint8)
    for row in range(len(images)):
        images[row, 0, 0] = (corruption_id, row // PER_SEVERITY + 1, row % PER_SEVERITY)
    return images


@pytest.fixture()
def release(tmp_path: Path) -> Path:
    np.save(tmp_path / "labels.npy", np.tile(np.arange(PER_SEVERITY, dtype=np.uint8) + 3, 5))
    np.save(tmp_path / "fog.npy", fake_images(1))
    np.save(tmp_path / "gaussian_noise.npy", fake_images(2))
    return tmp_path


def test_available_lists_present_corruptions_in_release_order(release: Path) -> None:
    assert available_cifar10c(release) == ["gaussian_noise", "fog"]


@pytest.mark.parametrize("severity", [1, 3, 5])
def test_load_returns_the_severity_slice(release: Path, severity: int) -> None:
    images, labels = load_cifar10c(release, "fog", severity)
    assert images.shape == (PER_SEVERITY, 32, 32, 3) and images.dtype == np.uint8
    assert labels.tolist() == [3, 4, 5, 6] and labels.dtype == np.int64
    assert images[:, 0, 0].tolist() == [[1, severity, i] for i in range(PER_SEVERITY)]
    assert isinstance(images, np.ndarray) and not isinstance(images, np.memmap)


def one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError) as error:
        load_cifar10c(tmp_path / "nowhere", "fog", 1)
    message = one_line(error)
    assert str(tmp_path / "nowhere") in message and "labels.npy" in message
    assert "https://zenodo.org/record/2535967" in message and "CIFAR-10-C.tar" in message
    with pytest.raises(DatasetNotFoundError):
        available_cifar10c(tmp_path / "nowhere")


def test_missing_corruption_file(release: Path) -> None:
    with pytest.raises(DatasetNotFoundError) as error:
        load_cifar10c(release, "snow", 2)
    message = one_line(error)
    assert str(release / "snow.npy") in message and "zenodo.org/record/2535967" in message


def test_missing_labels(release: Path) -> None:
    (release / "labels.npy").unlink()
    with pytest.raises(DatasetNotFoundError, match="labels.npy"):
        load_cifar10c(release, "fog", 1)


def test_truncated_file_is_named(release: Path) -> None:
    path = release / "fog.npy"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(CorruptDatasetError) as error:
        load_cifar10c(release, "fog", 1)
    assert str(path) in one_line(error)


def test_short_file_is_named(release: Path) -> None:
    np.save(release / "fog.npy", fake_images(1)[:7])
    with pytest.raises(CorruptDatasetError) as error:
        load_cifar10c(release, "fog", 1)
    message = one_line(error)
    assert str(release / "fog.npy") in message and "(7, 32, 32, 3)" in message


def test_garbage_file_is_named(release: Path) -> None:
    (release / "fog.npy").write_bytes(b"not a numpy file")
    with pytest.raises(CorruptDatasetError, match="fog.npy"):
        load_cifar10c(release, "fog", 1)


@pytest.mark.parametrize(
    "corruption, severity, message",
    [
        ("blizzard", 1, "unknown CIFAR-10-C corruption 'blizzard'"),
        ("fog", 6, "severity must be one of (1, 2, 3, 4, 5), got 6"),
    ],
)
def test_bad_request(release: Path, corruption: str, severity: int, message: str) -> None:
    with pytest.raises(ValueError) as error:
        load_cifar10c(release, corruption, severity)
    assert message in one_line(error)
