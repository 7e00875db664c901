"""Which layers stay full precision, and what replaces ReLU where."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

ACTIVATIONS = ("hardtanh", "prelu", "relu")


@dataclass(frozen=True)
class BinarizePolicy:
    """Layer selection for ``binarize``.

    ``declared`` maps fnmatch patterns on qualified module names to the reason they stay
    full precision: what an architecture declares (its stem, heads, T-Net inputs). When
    nothing is declared, the first conv/linear in module order (the stem) and the last one
    (the classifier) stay full precision (paper A.6, ``keep_first``/``keep_last``).
    ``keep`` adds the user's own patterns (``policy.keep``); ``binarize`` (``policy.binarize``)
    binarizes layers the architecture declares full precision (a detector's heads), unless
    ``keep`` names them too. Every pattern must match a conv/linear layer: a pattern that
    matches none is a typo, not a choice.

    ``activation`` replaces ``nn.ReLU`` in binarized models: ``hardtanh`` (the paper's
    choice, section 4), ``prelu`` (the official speech configs) or ``relu`` (unchanged).

    ``replacements`` maps module types (matched exactly) to the binarized modules an
    architecture swaps them for in every binarized run, whatever the algorithm: modules that
    are not conv/linear layers but have a binarized form of their own (BERT's attention core
    becomes BiBERT's bi-attention, its word embedding BiBERT's binarized one). Each
    replacement class builds itself with ``from_float(module)``.

    ``keep_activations`` maps patterns of ReLUs that stay ReLU to the reason (a detector's
    full-precision heads and extra layers, as in the official runs); ``binarize`` patterns
    override them too, so a head binarized by the user gets the binarized activation.
    Each must match a ReLU.
    """

    keep_first: bool = True
    keep_last: bool = True
    keep: tuple[str, ...] = ()
    declared: Mapping[str, str] = field(default_factory=dict)
    activation: str = "hardtanh"
    replacements: Mapping[type, type] = field(default_factory=dict)
    binarize: tuple[str, ...] = ()
    keep_activations: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("keep", "binarize"):
            value = getattr(self, name)  # a lone pattern, not its characters
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))
        object.__setattr__(self, "declared", dict(self.declared))
        object.__setattr__(self, "replacements", dict(self.replacements))
        object.__setattr__(self, "keep_activations", dict(self.keep_activations))
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {self.activation!r}; accepted: {', '.join(ACTIVATIONS)}"
            )

    @classmethod
    def declared_by(
        cls,
        keep: Mapping[str, str] | None,
        *,
        user: tuple[str, ...] = (),
        activation: str,
        replacements: Mapping[type, type] | None = None,
        binarize: tuple[str, ...] = (),
        keep_activations: Mapping[str, str] | None = None,
    ) -> BinarizePolicy:
        """The policy of an architecture that declares ``keep`` (None: the positional rule),
        its module ``replacements`` and the ReLUs it leaves alone."""
        common = {
            "activation": activation,
            "replacements": replacements or {},
            "binarize": binarize,
            "keep_activations": keep_activations or {},
        }
        if keep is None:
            return cls(keep=user, **common)
        return cls(keep_first=False, keep_last=False, keep=user, declared=keep, **common)

    def patterns(self) -> list[str]:
        return [*self.declared, *self.keep, *self.binarize]

    def _first(self, patterns: Iterable[str], name: str) -> str | None:
        return next((p for p in patterns if fnmatchcase(name, p)), None)

    def overridden(self, name: str) -> bool:
        """Whether ``policy.binarize`` binarizes ``name`` whatever the architecture declares
        (and ``policy.keep`` does not keep it)."""
        return self._first(self.binarize, name) is not None and self._first(self.keep, name) is None

    def matching_pattern(self, name: str) -> str | None:
        """The pattern that keeps ``name`` full precision, if any: the user's ``keep``
        first, then the declared ones unless ``policy.binarize`` overrides them."""
        user = self._first(self.keep, name)
        if user is not None or self.overridden(name):
            return user
        return self._first(self.declared, name)

    def kept_activation(self, name: str) -> str | None:
        """Why the ReLU ``name`` stays a ReLU, or None to replace it."""
        if self.overridden(name):
            return None
        pattern = self._first(self.keep_activations, name)
        return f"{self.keep_activations[pattern]} ('{pattern}')" if pattern else None

    def unmatched_activations(self, names: list[str]) -> list[str]:
        """``keep_activations`` patterns that match none of the ReLU ``names``."""
        return [p for p in self.keep_activations if not any(fnmatchcase(n, p) for n in names)]

    def reason(self, pattern: str) -> str:
        why = self.declared.get(pattern)
        return f"{why} ('{pattern}')" if why else f"policy pattern '{pattern}'"

    def unmatched(self, names: list[str]) -> list[str]:
        """Patterns that match none of ``names``."""
        return [p for p in self.patterns() if not any(fnmatchcase(n, p) for n in names)]
