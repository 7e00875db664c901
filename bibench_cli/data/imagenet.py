"""``imagenet``: ILSVRC-2012 classification from class folders, decoded with Pillow.

Layout: ``train/<wnid>/*.JPEG`` and ``val/<wnid>/*.JPEG`` under ``root`` or ``root/imagenet``
(the validation images sorted into one folder per class, as most ImageNet tooling expects).
Training uses RandomResizedCrop + horizontal flip, evaluation resize-256 / centre-crop-224
(scaled with ``image_size``), after torchvision's definitions and the official pipeline.
The ILSVRC test set has no public labels, so validation *and* test both read ``val/``; the
reported metric is the usual "ImageNet validation accuracy".

Per-image randomness uses torch's global RNG: Lightning's ``seed_everything`` fixes it in
the main process, and DataLoader workers are seeded from the loader's seeded generator.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property, partial
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch.utils.data import Dataset

from bibench_cli.data.base import Batch, ImageDataModule, Splits
from bibench_cli.data.errors import CorruptDatasetError, DatasetNotFoundError
from bibench_cli.data.synthetic import balanced_labels, grating_images
from bibench_cli.data.transforms import eval_resize_crop, random_resized_crop

IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png")
EXPECTED = "train/<class>/*.JPEG and val/<class>/*.JPEG, val/ sorted into class folders"
DIRNAME = "imagenet"
HOW_TO_GET = (
    "download ILSVRC-2012 from https://image-net.org/download-images.php (free account), "
    "extract it there and sort val/ into class folders"
)
# ImageNet statistics on the 0..255 scale, as in the official BiBench/mmcls config.
MEAN = (123.675 / 255, 116.28 / 255, 103.53 / 255)
STD = (58.395 / 255, 57.12 / 255, 57.375 / 255)

View = Callable[[Image.Image], Image.Image]


def imagenet_dir(root: str | Path) -> Path:
    """``root`` if it holds ``train/``, else ``root/imagenet`` (so one data root serves all)."""
    root = Path(root)
    if (root / "train").is_dir() or not (root / DIRNAME / "train").is_dir():
        return root
    return root / DIRNAME


def _class_dirs(directory: Path, root: Path) -> list[str]:
    if not directory.is_dir():
        raise DatasetNotFoundError(
            f"ImageNet not found at {root}: expected {EXPECTED}; {HOW_TO_GET}"
        )
    return sorted(entry.name for entry in directory.iterdir() if entry.is_dir())


def split_classes(root: Path, split: str) -> list[str]:
    """Class folder names of ``root/split``, sorted; one line when there are none."""
    classes = _class_dirs(root / split, root)
    if not classes:
        raise DatasetNotFoundError(
            f"ImageNet at {root}: no class folders in {root / split}; "
            f"expected {EXPECTED}; {HOW_TO_GET}"
        )
    return classes


def scan_split(root: Path, split: str, classes: list[str]) -> list[tuple[Path, int]]:
    """(image path, class index) for every image under ``root/split/<class>/``."""
    directory = root / split
    found = _class_dirs(directory, root)
    unknown = sorted(set(found) - set(classes))
    if unknown:
        raise DatasetNotFoundError(
            f"ImageNet at {root}: {split}/ has class folders absent from train/ "
            f"({', '.join(unknown[:5])}); expected {EXPECTED}"
        )
    samples = [
        (path, index)
        for index, name in enumerate(classes)
        if (directory / name).is_dir()
        for path in sorted((directory / name).iterdir())
        if path.suffix.lower() in IMAGE_SUFFIXES
    ]
    if not samples:
        raise DatasetNotFoundError(
            f"ImageNet at {root}: no images in {directory}/<class>/ "
            f"(looked for {', '.join(IMAGE_SUFFIXES)}); expected {EXPECTED}; {HOW_TO_GET}"
        )
    return samples


def decode_rgb(path: Path) -> Image.Image:
    """Decode an image file to RGB (ImageNet has some greyscale and CMYK JPEGs)."""
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise CorruptDatasetError(f"corrupt image {path}: {error}") from None


def random_view(image: Image.Image, size: int) -> Image.Image:
    """Training view: random resized crop, then a left-right flip half of the time."""
    image = random_resized_crop(image, size)
    if torch.rand(1).item() < 0.5:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return image


def to_chw_uint8(image: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.asarray(image, dtype=np.uint8).copy()).permute(2, 0, 1)


class ImageFiles(Dataset):
    """Image files decoded on demand into fixed-size uint8 C×H×W tensors by ``view``."""

    def __init__(self, samples: list[tuple[Path, int]], view: View) -> None:
        self.samples = samples
        self.view = view

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        path, label = self.samples[index]
        return to_chw_uint8(self.view(decode_rgb(path))), label

    def __getitems__(self, indices: list[int]) -> Batch:
        items = [self[index] for index in indices]
        labels = torch.tensor([label for _, label in items], dtype=torch.long)
        return torch.stack([image for image, _ in items]), labels


def write_imagenet_demo(
    root: str | Path, seed: int = 0, classes: int = 4, train: int = 24, val: int = 6
) -> str:
    """A synthetic stand-in for ImageNet in its folder layout: ``classes`` class folders
    (WordNet-style ids n00000000, n00000001, ...) of coloured-grating 64×64 JPEGs,
    ``train`` and ``val`` images per class."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    for split, per_class in (("train", train), ("val", val)):
        labels = balanced_labels(per_class * classes, classes, rng)
        for index, (pixels, label) in enumerate(
            zip(grating_images(labels, classes, 64, 3, rng), labels, strict=True)
        ):
            folder = root / split / f"n{label:08d}"
            folder.mkdir(parents=True, exist_ok=True)
            image = Image.fromarray(pixels.transpose(1, 2, 0))
            image.save(folder / f"n{label:08d}_{index}.JPEG", format="JPEG", quality=95)
    return (
        f"ImageNet layout, {classes} classes of {train} training and {val} validation "
        f"64×64 JPEGs: {root}"
    )


class ImageNetDataModule(ImageDataModule):
    """3-channel ImageNet at ``image_size`` (224 by default); classes are the train/ folders."""

    in_channels = 3
    image_size = 224
    mean = MEAN
    std = STD

    def __init__(
        self,
        *,
        root: str | Path = "data",
        image_size: int = 224,
        augment: bool = True,
        batch_size: int = 256,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        self.root = imagenet_dir(Path(root).expanduser().absolute())
        self.image_size = image_size
        self.use_augment = augment

    @cached_property
    def classes(self) -> list[str]:
        """Class folder names of ``train/``, sorted; a label is an index into this list."""
        return split_classes(self.root, "train")

    @property
    def num_classes(self) -> int:  # type: ignore[override]
        return len(self.classes)

    def check_data(self) -> None:
        """One line when train/ or val/ has no class folders (lists folders, reads no image)."""
        for split in ("train", "val"):
            split_classes(self.root, split)

    def load_splits(self) -> Splits:
        size = self.image_size
        eval_view = partial(eval_resize_crop, size=size)
        train_view = partial(random_view, size=size) if self.use_augment else eval_view
        train = ImageFiles(scan_split(self.root, "train", self.classes), train_view)
        val = ImageFiles(scan_split(self.root, "val", self.classes), eval_view)
        return Splits(train=train, val=val, test=val)

    def test_images_uint8(self) -> tuple[np.ndarray, np.ndarray]:
        """The val/ images at the evaluation view (resized, centre-cropped), N×H×W×C uint8.

        ImageNet images differ in size, so "raw" here means after the geometric test-time
        view but before normalisation. All of val/ is held in memory (7.5 GB for 50,000).
        """
        images, labels = self.splits.test.__getitems__(list(range(len(self.splits.test))))
        return images.permute(0, 2, 3, 1).numpy(), labels.numpy()

    def eval_transform(self, batch_uint8_nhwc: np.ndarray) -> torch.Tensor:
        """Normalise; images not already image_size² get the resize/centre-crop view first."""
        size = self.image_size
        if batch_uint8_nhwc.shape[1:3] != (size, size):
            views = [eval_resize_crop(Image.fromarray(image), size) for image in batch_uint8_nhwc]
            batch_uint8_nhwc = np.stack([np.asarray(view) for view in views])
        return super().eval_transform(batch_uint8_nhwc)
