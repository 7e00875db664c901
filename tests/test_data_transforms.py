"""Plain-torch/Pillow transforms checked against hand-computed windows and shapes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from bibench_cli.data.transforms import (
    center_crop,
    eval_resize_crop,
    nhwc_to_nchw,
    normalize,
    random_crop_padded,
    random_hflip,
    random_resized_crop,
    random_resized_crop_box,
    resize_shorter,
)


def distinct_images(n: int = 16, c: int = 3, h: int = 6, w: int = 5) -> torch.Tensor:
    """Images whose pixels are all different, so a window identifies its offset."""
    return (torch.arange(n * c * h * w) % 251 + 1).reshape(n, c, h, w).to(torch.uint8)


def test_random_crop_is_a_shifted_window_of_the_padded_image():
    images = distinct_images()
    out = random_crop_padded(images, 2, torch.Generator().manual_seed(0))
    assert out.shape == images.shape and out.dtype == torch.uint8
    padded = F.pad(images, (2, 2, 2, 2))
    offsets = set()
    for i in range(len(images)):
        matches = [
            (top, left)
            for top in range(5)
            for left in range(5)
            if torch.equal(out[i], padded[i, :, top : top + 6, left : left + 5])
        ]
        assert len(matches) == 1
        offsets.add(matches[0])
    assert len(offsets) > 1  # offsets are drawn per image


def test_random_crop_is_seeded():
    images = distinct_images()
    first = random_crop_padded(images, 4, torch.Generator().manual_seed(3))
    again = random_crop_padded(images, 4, torch.Generator().manual_seed(3))
    assert torch.equal(first, again)


def test_hflip_mirrors_some_images_and_keeps_the_rest():
    images = distinct_images()
    out = random_hflip(images, torch.Generator().manual_seed(1))
    flipped = [torch.equal(o, i.flip(-1)) for o, i in zip(out, images, strict=True)]
    kept = [torch.equal(o, i) for o, i in zip(out, images, strict=True)]
    assert all(f != k for f, k in zip(flipped, kept, strict=True))
    assert any(flipped) and any(kept)
    assert torch.equal(random_hflip(images, p=1.0), images.flip(-1))
    assert torch.equal(random_hflip(images, p=0.0), images)


def test_normalize_scales_to_unit_range_then_standardises():
    images = torch.tensor([0, 255], dtype=torch.uint8).view(1, 2, 1, 1).expand(1, 2, 2, 2)
    out = normalize(images, mean=(0.5, 0.5), std=(0.5, 0.25))
    assert out.dtype == torch.float32
    assert torch.allclose(out[0, 0], torch.full((2, 2), -1.0))
    assert torch.allclose(out[0, 1], torch.full((2, 2), 2.0))


def test_nhwc_to_nchw():
    batch = np.arange(2 * 3 * 4 * 5, dtype=np.uint8).reshape(2, 3, 4, 5)
    assert torch.equal(nhwc_to_nchw(batch), torch.from_numpy(batch).permute(0, 3, 1, 2))


def test_center_crop_takes_the_middle_window():
    pixels = np.arange(24, dtype=np.uint8).reshape(4, 6)  # height 4, width 6
    out = np.asarray(center_crop(Image.fromarray(pixels), 2))
    assert np.array_equal(out, pixels[1:3, 2:4])


@pytest.mark.parametrize(("size", "expected"), [((40, 30), (20, 15)), ((30, 40), (15, 20))])
def test_resize_shorter_keeps_aspect_ratio(size, expected):
    assert resize_shorter(Image.new("RGB", size), 15).size == expected


def test_eval_view_is_resize_256_then_center_224():
    image = Image.new("RGB", (400, 300))
    assert resize_shorter(image, round(224 * 8 / 7)).size == (341, 256)
    assert eval_resize_crop(image, 224).size == (224, 224)


def test_random_resized_crop_box_fits_and_respects_ratio():
    generator = torch.Generator().manual_seed(0)
    for _ in range(50):
        left, top, right, bottom = random_resized_crop_box(60, 40, generator=generator)
        assert 0 <= left < right <= 60 and 0 <= top < bottom <= 40
        assert 3 / 4 - 0.1 <= (right - left) / (bottom - top) <= 4 / 3 + 0.1


def test_random_resized_crop_falls_back_to_ratio_clamped_center():
    # no area fraction above 1 fits, so the fallback applies: a 100×10 image clamps to 13×10
    box = random_resized_crop_box(100, 10, scale=(1.5, 2.0), generator=torch.Generator())
    assert box == (43, 0, 56, 10)


def test_random_resized_crop_output_size():
    image = Image.fromarray(np.zeros((30, 50, 3), dtype=np.uint8))
    out = random_resized_crop(image, 16, torch.Generator().manual_seed(0))
    assert out.size == (16, 16)
