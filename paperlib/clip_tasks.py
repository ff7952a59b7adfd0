"""The CLIP task layer: what every CLIP chapter (1 and 5) needs besides training.

* **The encoder of a paradigm** (ch5 Sec. 3, Fig. 2): :func:`build_encoder` gives the trainable image
  encoder of ``non_linear``, ``linearized`` (the first-order Taylor expansion around θ0, ch5 Eq. (2))
  or ``linear_only`` fine-tuning, with θ read and set by :func:`encoder_state` /
  :func:`load_encoder_state` under the image encoder's own parameter names.
* **A task's data** (:func:`task_data`) and its evaluation set (:class:`EvalSet`: images, labels, the
  frozen zero-shot head and a key naming the split), for one split of each task (:func:`task_sets`).
* **Features and accuracy** of an encoder (:func:`features`, :func:`accuracy_of`), and the
  pre-trained model's zero-shot accuracy per task (:func:`zero_shot`, cached and shared by chapters
  1 and 5).
"""

from __future__ import annotations

from typing import Mapping, NamedTuple, Sequence

import torch
from torch import nn

from .config import loader_workers
from .data import get_dataset
from .data.dataset import limited
from .linearize import LinearizedModel, check_paradigm, select_parameters
from .metrics import accuracy
from .models.clip import ClipBundle, model_id
from .store import cached_run


class EvalSet(NamedTuple):
    """One split of one task, ready to evaluate: ``head(encoder(images))`` against ``labels``.

    ``head`` is the task's frozen zero-shot classification head; ``key`` (``"<split>:<task>"``)
    names the images for memoised features. A tuple, so ``x, y, head, key = evalset`` works.
    """

    images: torch.Tensor
    labels: torch.Tensor
    head: nn.Module
    key: str


def build_encoder(bundle: ClipBundle, paradigm: str, variant: int | None = None) -> tuple[nn.Module, list[str]]:
    """The trainable encoder of a paradigm and the names of the parameters it trains.

    ``non_linear`` and ``linear_only`` return the image encoder itself (with ``requires_grad`` off
    outside the selection); ``linearized`` wraps it in :class:`~paperlib.linearize.LinearizedModel`.
    Names are the image encoder's own parameter names in every case, so task vectors of different
    paradigms share keys.
    """
    paradigm, variant = check_paradigm(paradigm, variant)
    encoder = bundle.image_encoder()
    names = select_parameters(encoder, paradigm, variant)
    if paradigm == "linearized":
        return LinearizedModel(encoder), names
    chosen = set(names)
    for n, p in encoder.named_parameters():
        p.requires_grad_(n in chosen)
    return encoder, names


def trainable_parameters(encoder: nn.Module, names: list[str]) -> list[nn.Parameter]:
    """The parameters ``names`` of an encoder built by :func:`build_encoder` (θ of the linearized one)."""
    if isinstance(encoder, LinearizedModel):
        return [encoder.parameter(n) for n in names]
    by_name = dict(encoder.named_parameters())
    return [by_name[n] for n in names]


def encoder_state(encoder: nn.Module) -> dict[str, torch.Tensor]:
    """The encoder's current parameters θ under the image encoder's names (any paradigm)."""
    if isinstance(encoder, LinearizedModel):
        return encoder.trainable_state()
    return {n: p.detach() for n, p in encoder.named_parameters()}


def load_encoder_state(encoder: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Set θ of an encoder built by :func:`build_encoder` (names as in :func:`encoder_state`)."""
    if isinstance(encoder, LinearizedModel):
        encoder.load_trainable_state(state)
        return
    params = dict(encoder.named_parameters())
    with torch.no_grad():
        for n, v in state.items():
            params[n].copy_(v)


def task_data(task: str, split: str, profile: str, bundle: ClipBundle, data_root: str | None = None,
              n_per_class: int | None = None):
    """A task's split, as float images in [0, 1] the :class:`~paperlib.models.clip.ImageEncoder` takes."""
    if profile == "paper":
        import open_clip
        size = bundle.model.visual.image_size
        size = size[0] if isinstance(size, (tuple, list)) else size
        transform = open_clip.image_transform(size, is_train=False, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
        return get_dataset(task, split, profile, data_root, transform=transform)
    return get_dataset(task, split, profile, n_per_class=n_per_class)


@torch.no_grad()
def features(encoder: nn.Module, dataset_or_images, batch_size: int = 512) -> torch.Tensor:
    """Encoder outputs f(x; θ) for a whole split (or an image tensor), in eval mode."""
    encoder.eval()
    device = next(encoder.buffers(), torch.zeros(())).device
    if torch.is_tensor(dataset_or_images):
        x = dataset_or_images
        return torch.cat([encoder(x[i:i + batch_size].to(device)).cpu() for i in range(0, len(x), batch_size)])
    if hasattr(dataset_or_images, "tensors"):
        return features(encoder, dataset_or_images.tensors()[0], batch_size)
    loader = torch.utils.data.DataLoader(dataset_or_images, batch_size=batch_size,
                                         num_workers=loader_workers(4))
    return torch.cat([encoder(x.to(device)).cpu() for x, _ in loader])


def labels_of(dataset) -> torch.Tensor:
    if isinstance(dataset, torch.utils.data.Subset):  # an ``eval_images`` cut (:func:`paperlib.data.dataset.limited`)
        return labels_of(dataset.dataset)[torch.as_tensor(dataset.indices, dtype=torch.long)]
    return dataset.tensors()[1] if hasattr(dataset, "tensors") else torch.tensor(dataset.targets)


def accuracy_of(encoder: nn.Module, head: nn.Module, dataset) -> float:
    """Top-1 accuracy (%) of head(encoder(x)) on a split."""
    return accuracy(head(features(encoder, dataset)), labels_of(dataset))


def whole_split(dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """(images, labels) of a whole split as two tensors."""
    if hasattr(dataset, "tensors"):
        return dataset.tensors()
    if isinstance(dataset, torch.utils.data.Subset) and hasattr(dataset.dataset, "tensors"):
        idx = torch.as_tensor(dataset.indices, dtype=torch.long)
        return tuple(t[idx] for t in dataset.dataset.tensors())
    return torch.stack([dataset[i][0] for i in range(len(dataset))]), labels_of(dataset)


def task_sets(bundle: ClipBundle, tasks: Sequence[str], split: str, profile: str, data_root: str | None = None,
              n_per_class: int | None = None, device: str = "cpu", eval_images: int | None = None
              ) -> dict[str, EvalSet]:
    """task → :class:`EvalSet` for one split of each task (``key`` is ``"<split>:<task>"``); ``eval_images``: at
    most that many images of the split (:func:`paperlib.data.dataset.limited`; None: all)."""
    out = {}
    for t in tasks:
        ds = task_data(t, split, profile, bundle, data_root, n_per_class=n_per_class)
        x, y = whole_split(limited(ds, eval_images))
        out[t] = EvalSet(x, y, bundle.head(ds.classnames, ds.templates).to(device), f"{split}:{t}")
    return out


def eval_splits(bundle: ClipBundle, tasks: Sequence[str], profile: str, data_root: str | None = None,
                val_per_class: int | None = None, test_per_class: int | None = None,
                device: str = "cpu", eval_images: int | None = None
                ) -> tuple[dict[str, EvalSet], dict[str, EvalSet]]:
    """``(val, test)`` evaluation sets of every task (:func:`task_sets`), the splits a CLIP chapter
    chooses α on and reports."""
    return (task_sets(bundle, tasks, "val", profile, data_root, val_per_class, device, eval_images),
            task_sets(bundle, tasks, "test", profile, data_root, test_per_class, device, eval_images))


def zero_shot(bundle: ClipBundle, val_sets: Mapping[str, EvalSet], test_sets: Mapping[str, EvalSet], profile: str,
              val_per_class: int | None, data_root: str | None = None, device: str = "cpu",
              test_per_class: int | None = None, eval_images: int | None = None) -> dict[str, dict]:
    """Zero-shot accuracy (%) of the pre-trained model per task on val and test (ch5 Table 1's and
    ch1 Table 3's first row); cached, so chapters 1 and 5 share it. ``*_per_class`` and ``eval_images`` name the
    sizes of the splits in the sets (part of the cache key)."""
    def compute():
        enc = bundle.image_encoder().to(device)
        return {t: {split: accuracy(sets[t].head(features(enc, sets[t].images)), sets[t].labels)
                    for split, sets in (("val", val_sets), ("test", test_sets))} for t in test_sets}
    key = {"weights": model_id(bundle.name, bundle.pretrained), "profile": profile, "tasks": list(test_sets),
           "val_per_class": val_per_class, "test_per_class": test_per_class, "data_root": data_root}
    if eval_images is not None:  # keys of whole-split results stay as they were
        key["eval_images"] = eval_images
    return cached_run("zero_shot", key, compute)


__all__ = ["EvalSet", "accuracy_of", "build_encoder", "encoder_state", "eval_splits", "features", "labels_of",
           "load_encoder_state", "task_data", "task_sets", "trainable_parameters", "whole_split", "zero_shot"]
