"""Full-precision architectures, looked up by name (timm style), each declaring itself.

An :class:`ArchSpec` holds the builder (``build(input, **outputs, **params)``: the task's
input spec, its head sizes and the architecture's own options from ``arch.params``), the
inputs it accepts, which layers stay full precision in binarized runs (``keep`` patterns
with the reason, or a function of the task shape giving them when the layers differ by
head; None falls back to the first and last conv/linear), the activation that replaces ReLU
in binarized runs and the ReLUs that stay (``keep_activations``), the modules every binarized
run swaps for binarized ones (``replacements``: BERT's attention and word embedding), how a
pretrained start is loaded from a local file, and how the model is counted (``counting``).
An architecture whose runs need a pretrained start says where one comes from
(``pretrained``): ``arch.checkpoint`` is then required (``none``: random init), and its
builder may take the checkpoint (``checkpoint=``) to size the model after it.
Descriptions and families live in ``conf/arch/*.yaml`` (``bibench list`` reads them there).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

from bibench_cli.binarize.policy import BinarizePolicy
from bibench_cli.models import bert
from bibench_cli.models.detection import faster_rcnn, resnet_c4, ssd
from bibench_cli.models.errors import IncompatibleError, UnknownArchitectureError
from bibench_cli.models.fsmn import ACTIVATION as FSMN_ACTIVATION
from bibench_cli.models.fsmn import KEEP as FSMN_KEEP
from bibench_cli.models.fsmn import dfsmn, fsmn
from bibench_cli.models.inputs import (
    DetectionImages,
    ImageSizes,
    InputConstraint,
    InputSpec,
    Spectrograms,
    TaskShape,
    TokenSequences,
)
from bibench_cli.models.pointnet import HEAD_LAYERS as POINTNET_HEADS
from bibench_cli.models.pointnet import POINTNET_INPUTS, keep_for, pointnet, pointnet_vanilla
from bibench_cli.models.pretrained import load_state_dict_file
from bibench_cli.models.resnet import KEEP as RESNET_KEEP
from bibench_cli.models.resnet import resnet18, resnet20, resnet34
from bibench_cli.models.vgg_small import KEEP as VGGSMALL_KEEP
from bibench_cli.models.vgg_small import VGGSMALL_INPUTS, vggsmall

__all__ = [
    "ArchSpec",
    "IncompatibleError",
    "UnknownArchitectureError",
    "build_model",
    "check_compatible",
    "get_architecture",
    "list_architectures",
]


@dataclass(frozen=True)
class ArchSpec:
    """A registered architecture (see the module docstring)."""

    build: Callable[..., nn.Module]
    accepts: InputConstraint
    # fnmatch pattern -> why it stays full precision, or the task shape -> those patterns
    keep: Mapping[str, str] | Callable[[TaskShape], Mapping[str, str]] | None = None
    activation: str = "hardtanh"  # what replaces nn.ReLU in binarized runs (paper section 4)
    heads: tuple[str, ...] = ()  # layers a pretrained start may leave fresh (other classes)
    load_pretrained: Callable[[nn.Module, Path, tuple[str, ...]], str] = field(
        default=load_state_dict_file
    )
    # module type -> binarized module swapped in by every binarized run (bi-attention)
    replacements: Mapping[type[nn.Module], type[nn.Module]] = field(default_factory=dict)
    pretrained: str = ""  # where a required pretrained start (arch.checkpoint) comes from
    keep_activations: Mapping[str, str] = field(default_factory=dict)  # ReLU pattern -> why
    # a context the model is counted in (a two-stage detector's RoI count fixed)
    counting: Callable[[nn.Module], AbstractContextManager] = nullcontext

    def keep_for(self, shape: TaskShape) -> Mapping[str, str] | None:
        """The declared full-precision layers of the model built for ``shape``."""
        return self.keep(shape) if callable(self.keep) else self.keep

    def policy(
        self, shape: TaskShape, *, keep: tuple[str, ...] = (), binarize: tuple[str, ...] = ()
    ) -> BinarizePolicy:
        """How binarized runs of the model built for ``shape`` binarize it: the declared
        full-precision layers, activation, module replacements and kept ReLUs, plus the
        user's ``policy.keep`` and ``policy.binarize`` patterns."""
        return BinarizePolicy.declared_by(
            self.keep_for(shape),
            user=keep,
            activation=self.activation,
            replacements=self.replacements,
            binarize=binarize,
            keep_activations=self.keep_activations,
        )

    def options(self) -> list[str]:
        """The builder's own keyword options (what ``arch.params`` may set)."""
        parameters = inspect.signature(self.build).parameters.values()
        return [
            p.name
            for p in parameters
            if p.kind is p.KEYWORD_ONLY and p.default is not p.empty and p.name != CHECKPOINT
        ]

    def sized_by_checkpoint(self) -> bool:
        """Whether the builder reads the pretrained start (``arch.checkpoint``) for its sizes."""
        return CHECKPOINT in inspect.signature(self.build).parameters


CHECKPOINT = "checkpoint"  # the builder option that receives arch.checkpoint
_IMAGE_CLASSIFIER = {"heads": ("fc",)}
_BERT = {
    "keep": bert.KEEP,
    "heads": ("classifier",),
    "load_pretrained": bert.load_pretrained_bert,
    "replacements": bert.BINARIZED_MODULES,
    "pretrained": f"a directory with {bert.EXPECTED_FILES}; {bert.WHERE_TO_GET}",
}
_BERT_INPUTS = TokenSequences(512, why="BERT's position embeddings")
_KEYWORD_SPOTTER = {"heads": ("head",), "activation": FSMN_ACTIVATION}
_REGISTRY: dict[str, ArchSpec] = {
    "resnet20": ArchSpec(resnet20, ImageSizes(), RESNET_KEEP, **_IMAGE_CLASSIFIER),
    "resnet18": ArchSpec(resnet18, ImageSizes(), RESNET_KEEP, **_IMAGE_CLASSIFIER),
    "resnet34": ArchSpec(resnet34, ImageSizes(), RESNET_KEEP, **_IMAGE_CLASSIFIER),
    "vggsmall": ArchSpec(vggsmall, VGGSMALL_INPUTS, VGGSMALL_KEEP, **_IMAGE_CLASSIFIER),
    **{
        name: ArchSpec(bert.bert_builder(name), _BERT_INPUTS, **_BERT) for name in bert.BERT_CONFIGS
    },
    "pointnet": ArchSpec(pointnet, POINTNET_INPUTS, keep_for(True), heads=POINTNET_HEADS),
    "pointnet_vanilla": ArchSpec(
        pointnet_vanilla, POINTNET_INPUTS, keep_for(False), heads=POINTNET_HEADS
    ),
    "fsmn": ArchSpec(fsmn, Spectrograms(), FSMN_KEEP, **_KEYWORD_SPOTTER),
    "dfsmn": ArchSpec(dfsmn, Spectrograms(), FSMN_KEEP, **_KEYWORD_SPOTTER),
    "faster_rcnn_r18": ArchSpec(
        faster_rcnn.faster_rcnn_r18,
        DetectionImages(),
        faster_rcnn.KEEP,
        load_pretrained=resnet_c4.load_imagenet_backbone,
        keep_activations=faster_rcnn.KEEP_ACTIVATIONS,
        counting=faster_rcnn.every_proposal,
    ),
    "ssd300_vgg16": ArchSpec(
        ssd.ssd300_vgg16,
        DetectionImages(),
        ssd.KEEP,
        load_pretrained=ssd.load_vgg16_backbone,
        keep_activations=ssd.KEEP_ACTIVATIONS,
    ),
}


def get_architecture(name: str) -> ArchSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise UnknownArchitectureError(f"unknown architecture {name!r}; known: {known}") from None


def list_architectures() -> list[str]:
    """Registered names, sorted."""
    return sorted(_REGISTRY)


def check_compatible(name: str, spec: InputSpec) -> None:
    """Raise a one-line :class:`IncompatibleError` if ``name`` cannot take this input."""
    get_architecture(name).accepts.check(name, spec)


def check_params(name: str, params: Mapping[str, object]) -> None:
    """Raise a one-line error for an ``arch.params`` key the builder does not take."""
    options = get_architecture(name).options()
    unknown = sorted(set(params) - set(options))
    if unknown:
        raise IncompatibleError(
            f"unknown arch.params {', '.join(unknown)} for {name!r}; "
            f"accepted: {', '.join(options) or 'none'}"
        )


def build_model(
    name: str, shape: TaskShape, *, checkpoint: str | None = None, **params: object
) -> nn.Module:
    """A freshly initialised full-precision ``name`` for the task's input and heads;
    ``checkpoint`` (the pretrained start) goes to builders that size the model after it."""
    check_compatible(name, shape.input)
    check_params(name, params)
    spec = get_architecture(name)
    if spec.sized_by_checkpoint():
        params = {**params, CHECKPOINT: checkpoint}
    return spec.build(shape.input, **shape.outputs, **params)
