"""Image corruptions of CIFAR-10-C (Hendrycks & Dietterich, ICLR 2019) for any image test set.

The 15 common corruptions plus the 4 extra ones of the CIFAR-10-C release, each at
severities 1..5 with the parameters of the authors' ``make_cifar_c.py`` (the 32×32 tables,
not ImageNet-C's), reimplemented with numpy/scipy/Pillow: the original's ImageMagick
(Wand), OpenCV and old scikit-image calls are ported in :mod:`.filters`, :mod:`.cvports`
and :mod:`.color`. ``PROCEDURAL`` names the corruptions whose assets could not be shipped
and are generated instead (frost). Deviations from the original are listed in each
function's docstring.

    >>> corrupt(images_uint8_nhwc, "fog", severity=3, seed=0)
"""

from bibench_cli.data.corruptions.api import corrupt, list_corruptions
from bibench_cli.data.corruptions.registry import CORRUPTIONS, PROCEDURAL, RANDOM, SEVERITIES

__all__ = ["CORRUPTIONS", "PROCEDURAL", "RANDOM", "SEVERITIES", "corrupt", "list_corruptions"]
