"""Which layers stay full precision, and what replaces ReLU."""

from __future__ import annotations

from collections.abc import Mapping
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
    ``keep`` adds the user's own patterns (``policy.keep``). Every pattern must match a
    conv/linear layer: a pattern that matches none is a typo, not a choice.

    ``activation`` replaces ``nn.ReLU`` in binarized models: ``hardtanh`` (the paper's
    choice, section 4), ``prelu`` (the official speech configs) or ``relu`` (unchanged).

    ``replacements`` maps module types (matched exactly) to the binarized modules an
    architecture swaps them for in every binarized run, whatever the algorithm: modules that
    are not conv/linear layers but have a binarized form of their own (BERT's attention core
    becomes BiBERT's bi-attention, its word embedding BiBERT's binarized one). Each
    replacement class builds itself with ``from_float(module)``.
    """

    keep_first: bool = True
    keep_last: bool = True
    keep: tuple[str, ...] = ()
    declared: Mapping[str, str] = field(default_factory=dict)
    activation: str = "hardtanh"
    replacements: Mapping[type, type] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.keep, str):  # a lone pattern, not its characters
            object.__setattr__(self, "keep", (self.keep,))
        else:
            object.__setattr__(self, "keep", tuple(self.keep))
        object.__setattr__(self, "declared", dict(self.declared))
        object.__setattr__(self, "replacements", dict(self.replacements))
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
    ) -> BinarizePolicy:
        """The policy of an architecture that declares ``keep`` (None: the positional rule)
        and its module ``replacements``."""
        replacements = replacements or {}
        if keep is None:
            return cls(keep=user, activation=activation, replacements=replacements)
        return cls(False, False, user, keep, activation, replacements)

    def patterns(self) -> list[str]:
        return [*self.declared, *self.keep]

    def matching_pattern(self, name: str) -> str | None:
        """The first declared or user pattern matching ``name``, if any."""
        return next((p for p in self.patterns() if fnmatchcase(name, p)), None)

    def reason(self, pattern: str) -> str:
        why = self.declared.get(pattern)
        return f"{why} ('{pattern}')" if why else f"policy pattern '{pattern}'"

    def unmatched(self, names: list[str]) -> list[str]:
        """Patterns that match none of ``names``."""
        return [p for p in self.patterns() if not any(fnmatchcase(n, p) for n in names)]
