"""Data layer: one registry for the embedded benchmark and the papers' datasets.

>>> from paperlib.data import get_dataset, list_datasets
>>> ds = get_dataset("street_digits", "train", profile="smoke")
>>> ds.classnames[:3], ds.templates[0]
"""

from .registry import generate_domain, get_dataset, list_datasets
from .standins import BENCHMARKS, benchmark, stand_in_rows

__all__ = ["get_dataset", "list_datasets", "generate_domain", "BENCHMARKS", "benchmark", "stand_in_rows"]
