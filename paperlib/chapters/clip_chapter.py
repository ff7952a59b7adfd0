"""What the CLIP chapters (1 and 5) share: the profile's pre-trained model, every task's evaluation
splits and the model's zero-shot accuracy on them (one cache entry, so the two chapters share it)."""

from __future__ import annotations

from concurrent.futures import Executor

from ..clip_tasks import eval_splits, zero_shot
from ..models.clip import ClipBundle, load_clip


class ClipChapter:
    """A CLIP chapter's state. ``cfg`` names ``profile``, ``tasks``, ``model``, ``pretrained``,
    ``data_root``, ``val_per_class``, ``test_per_class`` and ``device``; ``bundle`` skips loading
    the model (tests pass a shared one); ``executor`` runs the chapter's grid (serial when None)."""

    def __init__(self, cfg, bundle: ClipBundle | None = None, progress: bool = True,
                 executor: Executor | None = None):
        self.cfg, self.progress, self.executor = cfg, progress, executor
        self.bundle = bundle or load_clip(cfg.profile, cfg.model, cfg.pretrained)
        self.val_sets, self.test_sets = eval_splits(self.bundle, cfg.tasks, cfg.profile, cfg.data_root,
                                                    cfg.val_per_class, cfg.test_per_class, cfg.device)

    def zero_shot_accuracy(self) -> dict[str, dict[str, float]]:
        """task → {"val": %, "test": %} of the pre-trained model (ch5 Table 1's and ch1 Table 3's
        first row; cached)."""
        c = self.cfg
        return zero_shot(self.bundle, self.val_sets, self.test_sets, c.profile, c.val_per_class, c.data_root,
                         c.device, c.test_per_class)


__all__ = ["ClipChapter"]
