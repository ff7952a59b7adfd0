"""A rehearsal of the ``paper`` profile: every chapter notebook run end to end on the paper's code path, on a
fake data root in the real formats (:mod:`paperlib.data.fake_root`) and, where a chapter starts from pretrained
weights, the paper's architectures randomly initialised (``pretrained="random"``): nothing is downloaded.

What it exercises is what a researcher's first ``paper`` run would meet: the real loaders and split protocols,
the real class counts and templates, the paper's architectures at their real input sizes (ViT-B/32 and ResNet-50/34
at 224 px; ResNet-32, ResNet-20 and WRN-10-2 at 32 px), every table and figure rendered from what the profile
produced. What it does not: the papers' numbers (random weights, a handful of images per class, one or two steps
per run; every table of a rehearsal says so, :func:`paperlib.chapters.kit.rehearsal_of`).

:data:`OVERRIDES` holds, per chapter, the papermill parameters that shrink the paper's protocol to a CPU-sized
rehearsal; each is an ordinary chapter parameter (validated in the chapter's first cell), so a researcher can run
the same rehearsal with ``papermill -p profile paper -p pretrained random ...`` before committing GPU hours.
``make notebooks-paper`` runs it (``scripts/book.py rehearse``), and CI runs it after ``make test``, in
``make test-books``: its own tier, outside ``make test``'s 10-minute budget. Every chapter with a paper profile is
rehearsed (chapters 1–5); chapter 0 has no paper profile.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: Chapter prefix → papermill parameters of its rehearsal (besides ``profile``, ``data_root``, ``device``).
OVERRIDES: dict[str, dict[str, Any]] = {
    # ch1: ViT-B/32 at 224 px, random weights, one target and one reference (the fewest classes and templates:
    # RESISC45's 45 classes × 18 templates cost 107 s of text encoding before the first run; a second target, DTD,
    # would add 376 prompts), every method of Table 3, one step per task, n = 1, one order, each sweep at the main
    # runs' point (cached), two α values, 2 evaluation images per split (each ViT-B/32 forward of an evaluation, and
    # a linearized one costs about 4 of them, is most of the chapter's time).
    "ch1": dict(pretrained="random", targets=["EuroSAT"], references=["MNIST"], seeds=[0], iterations=1, rounds=1,
                orders=1, rounds_grid=[1], lr_grid=[1e-5], epoch_scales=[1.0], batch_size=4, alpha_grid=[0.0, 1.0],
                eval_images=2, workers=1),
    # ch4: ResNet-32 at the paper's two narrowest widths on the three datasets at 32 px, every weighting, one epoch,
    # one seed; the CKA probe on the fake root's one test image per class. (Each doubling of the width costs about
    # 4x per image: with widths 0.25 and 1 the grid alone took 82 s on 2 quiet cores.)
    "ch4": dict(widths=[0.25, 0.5], epochs=1, seeds=[0], probe_per_class=1, workers=1),
    # ch5: ViT-B/32 at 224 px, random weights, on two of the eight tasks (the fewest classes: the zero-shot heads
    # encode every class name with every template), every paradigm, one step of batch 4 per run, two α values, 2
    # evaluation images per split.
    "ch5": dict(pretrained="random", tasks=["MNIST", "EuroSAT"], variants=[1], seeds=[0], iterations=1, batch_size=4,
                alpha_grid=[0.0, 1.0], xi_grid_size=2, xi_points=2, eval_images=2, workers=1),
    # ch2: ResNet-50 (ImageNet-to-Sketch) and ResNet-34 (DomainNet) at 224 px on one domain each, ViT-B/32 at 224 px
    # on one of Table 3's datasets, random weights, FTN at rank 1 and every baseline and ViT method, one step of
    # batch 4 per run, 4 validation and test images per dataset, the images read in the notebook's process.
    "ch2": dict(pretrained="random", domains=["ImageNetToSketch:flowers", "DomainNet:clipart", "STL10"],
                ranks=[1], seeds=[0], steps=1, vit_steps=1, batch_size=4, eval_images=4, loader_workers=0,
                workers=1),
    # ch3: both pairs (ResNet-20 on CIFAR-100 → CIFAR-10, WRN-10-2 with dropout on MNIST → SVHN, 32 px), one target
    # size, one epoch, one TPE round of one trial; the validation split sized for a handful of images per class.
    "ch3": dict(pairs=["objects", "digits"], sizes=[12], target_val=4, epochs=1, seeds=[0], per_round=1, rounds=1,
                workers=1),
}


def parameters(chapter: str, data_root: Path) -> dict[str, Any]:
    """The papermill parameters of ``chapter``'s rehearsal on the fake root ``data_root``."""
    prefix = chapter.split("_", 1)[0]
    if prefix not in OVERRIDES:
        raise ValueError(f"chapter {chapter!r} has no rehearsal; allowed: {', '.join(sorted(OVERRIDES))}")
    return dict(profile="paper", data_root=str(Path(data_root).resolve()), device="cpu", **OVERRIDES[prefix])


__all__ = ["OVERRIDES", "parameters"]
