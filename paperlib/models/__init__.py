"""Models of the book: small baselines here; CLIP encoders, CIFAR ResNets and FTN layers join with
their chapters."""

from .small_cnn import SmallCNN

__all__ = ["SmallCNN"]
