"""What the CLIP chapters (1 and 5) share: the profile's pre-trained model, every task's evaluation
splits and the model's zero-shot accuracy on them (one cache entry, so the two chapters share it),
and the fine-tuning grid, trained by units of runs (:func:`paperlib.batched.training_units`) on the
chapter's workers."""

from __future__ import annotations

from concurrent.futures import Executor
from functools import partial
from typing import Sequence

from ..batched import train_unit, training_units
from ..clip_tasks import eval_splits, zero_shot
from ..finetune import FinetuneConfig, FinetuneRun, finetune
from ..models.clip import ClipBundle, load_clip
from .kit import WorkerPool, run_grid


class ClipChapter:
    """A CLIP chapter's state. ``cfg`` names ``profile``, ``tasks``, ``model``, ``pretrained``,
    ``data_root``, ``val_per_class``, ``test_per_class``, ``eval_images``, ``device`` and ``workers``; ``bundle`` skips
    loading the model (tests pass a shared one); ``executor`` runs the chapter's grids (else ``workers``
    local processes, :class:`~paperlib.chapters.kit.WorkerPool`; serial for one)."""

    def __init__(self, cfg, bundle: ClipBundle | None = None, progress: bool = True,
                 executor: Executor | None = None):
        self.cfg, self.progress = cfg, progress
        self.pool = WorkerPool(cfg.workers, executor)
        self.bundle = bundle or load_clip(cfg.profile, cfg.model, cfg.pretrained)
        self.val_sets, self.test_sets = eval_splits(self.bundle, cfg.tasks, cfg.profile, cfg.data_root,
                                                    cfg.val_per_class, cfg.test_per_class, cfg.device, cfg.eval_images)

    def zero_shot_accuracy(self) -> dict[str, dict[str, float]]:
        """task → {"val": %, "test": %} of the pre-trained model (ch5 Table 1's and ch1 Table 3's
        first row; cached)."""
        c = self.cfg
        return zero_shot(self.bundle, self.val_sets, self.test_sets, c.profile, c.val_per_class, c.data_root,
                         c.device, c.test_per_class, c.eval_images)

    def finetune_all(self, configs: Sequence[FinetuneConfig], desc: str = "fine-tuning") -> list[FinetuneRun]:
        """Every run of ``configs`` (in order): the uncached ones are trained first, as units of runs
        trained together, costliest first, on the chapter's workers; then all load from the cache."""
        resolved = [c.resolved() for c in configs]
        units = training_units(resolved, self.bundle, parts=self.pool.workers)
        if units:
            executor = self.pool.executor()  # in this process (None), the chapter's model; a worker loads its own
            run_grid(partial(train_unit, bundle=None if executor else self.bundle, device=self.cfg.device), units,
                     executor=executor,
                     desc=f"{desc} ({sum(map(len, units))} runs in {len(units)} units)", progress=self.progress)
        return [finetune(c, self.bundle, progress=False, device=self.cfg.device) for c in resolved]


__all__ = ["ClipChapter"]
