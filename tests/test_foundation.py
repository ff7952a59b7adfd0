"""The foundation model's pre-training loop (paperlib.foundation): killed and resumed."""

import json

import torch
from killing import orphans, run_until_killed
from safetensors.torch import load_file

from paperlib import foundation
from paperlib.config import cache_dir

TINY = dict(steps=6, batch_size=8, warmup=4, n_per_class=2)  # the warm-up ends after the interruption


def test_a_killed_pretraining_resumes_bit_identically(tmp_path):
    cfg = foundation.FoundationConfig(**TINY)
    full = foundation.pretrain(cfg, tmp_path / "full", progress=False, checkpoint_every=2, evaluate=False)
    run_until_killed(f"""
from paperlib import foundation
foundation.pretrain(foundation.FoundationConfig(**{TINY!r}), {str(tmp_path / "resumed")!r}, progress=False,
                    checkpoint_every=2, evaluate=False)
""", kill_at=2)  # killed writing the step-4 checkpoint: resumes from step 2, before the warm-up ends
    assert orphans(cache_dir() / "runs" / "foundation")
    resumed = foundation.pretrain(cfg, tmp_path / "resumed", progress=False, checkpoint_every=2, evaluate=False)
    assert not orphans(cache_dir() / "runs" / "foundation")
    assert [h["loss"] for h in resumed["history"]] == [h["loss"] for h in full["history"]]
    a, b = load_file(tmp_path / "full" / "model.safetensors"), load_file(tmp_path / "resumed" / "model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert json.loads((tmp_path / "resumed" / "config.json").read_text())["sha256"] == \
        json.loads((tmp_path / "full" / "config.json").read_text())["sha256"]


def test_loss_change_over_the_last_fifth():
    falling = [{"loss": 10.0 - i} for i in range(10)]  # 3 after 8 of 10 logged intervals, 1 at the end
    assert foundation.loss_change_last_fifth(falling) == (1.0 - 3.0) / 3.0
    assert foundation.loss_change_last_fifth([{"loss": 3.0}] * 10) == 0.0
    assert foundation.loss_change_last_fifth(falling[:4]) is None


def test_the_corpus_is_the_shipped_models_15_domains_whatever_is_registered_later():
    from paperlib.data.embedded import DOMAINS
    plan = foundation.corpus_plan(foundation.FoundationConfig())
    assert list(plan) == list(foundation.CORPUS_DOMAINS) and len(plan) == 15 and set(plan) < set(DOMAINS)
    assert "painted_digits" in DOMAINS and "painted_digits" not in plan
