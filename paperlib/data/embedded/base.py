"""Registry of the embedded benchmark's generated domains.

A domain is a deterministic image generator plus its class names and caption templates. Each module
in this package registers its domains with :func:`register`; :mod:`paperlib.data` turns a domain
into a cached, checksummed torch ``Dataset``.

Generator contract (every domain follows it, tests check it):

* ``generate(n_per_class, split, g)`` returns ``(images, labels)``: ``images`` a ``uint8`` tensor of
  shape ``(n_per_class * n_classes, 3, 32, 32)``, ``labels`` an ``int64`` tensor with exactly
  ``n_per_class`` of each class, in a shuffled order.
* All randomness comes from the ``torch.Generator`` ``g`` (seeded per seed, domain and split), so
  the same seed gives the same bytes on the CPU.
* Splits never share source material where a source is finite (scikit-learn's digit scans, regions
  of scikit-image's photographs): ``train``, ``val`` and ``test`` draw from disjoint pools.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch

IMAGE_SIZE = 32

Generator = Callable[[int, str, torch.Generator], "tuple[torch.Tensor, torch.Tensor]"]


@dataclass(frozen=True)
class Domain:
    """One generated domain of the embedded benchmark.

    Attributes:
        name: registry key (``snake_case``).
        classnames: human-readable class names, in label order (CLIP chapters build zero-shot
            heads from them).
        templates: caption/prompt templates with one ``{}`` for the class name.
        description: one sentence on what the images look like.
        generate: the generator (see the module docstring for its contract).
        version: bump when the generator's output changes, so cached copies are not reused.
        tags: free-form labels (``digits``, ``glyphs``, ``photo``, ``procedural``...).
    """

    name: str
    classnames: tuple[str, ...]
    templates: tuple[str, ...]
    description: str
    generate: Generator = field(repr=False, compare=False)
    version: int = 1
    tags: tuple[str, ...] = ()

    @property
    def n_classes(self) -> int:
        return len(self.classnames)


DOMAINS: dict[str, Domain] = {}


def register(domain: Domain) -> Domain:
    """Add ``domain`` to :data:`DOMAINS` (names must be unique, templates must hold ``{}``)."""
    if domain.name in DOMAINS:
        raise ValueError(f"embedded domain {domain.name!r} is registered twice")
    if not domain.templates or any("{}" not in t for t in domain.templates):
        raise ValueError(f"every template of {domain.name!r} needs one '{{}}' for the class name")
    if len(set(domain.classnames)) != len(domain.classnames):
        raise ValueError(f"class names of {domain.name!r} are not unique")
    DOMAINS[domain.name] = domain
    return domain
