"""The embedded benchmark: generated multi-domain 32×32 RGB image domains that need no download.

Built only from what the pinned packages ship (scikit-learn's handwritten digits, scikit-image's
sample photographs and textures, matplotlib's bundled fonts) plus procedural drawing and noise.
Importing this package registers every domain in :data:`DOMAINS`.
"""

from . import glyphs, procedural, vehicles  # noqa: F401  (register their domains)
from .base import DOMAINS, IMAGE_SIZE, Domain, register

__all__ = ["DOMAINS", "IMAGE_SIZE", "Domain", "register"]
