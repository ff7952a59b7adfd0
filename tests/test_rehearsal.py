"""The paper profile's rehearsal (issue 16): ``pretrained='random'`` builds the paper architectures without
downloading, a rehearsal labels every table, and each chapter's rehearsal parameters pass its validation cell."""

from __future__ import annotations

import importlib
import os

import pandas as pd
import pytest
from validation import assert_rejected, notebook_namespace

from paperlib import rehearsal
from paperlib.chapters import kit
from paperlib.chapters.ch1_sequential_tangent_pcgrad import Ch1Config
from paperlib.chapters.ch2_factorized_tensor_networks import Ch2Config
from paperlib.chapters.ch5_linear_layers_task_arithmetic import Ch5Config
from paperlib.models.clip import RANDOM, load_clip, model_id


@pytest.fixture(autouse=True)
def _no_paper_data_needed(monkeypatch):
    """The configurations below are checked without a data root: the paper data check is the registry's own test."""
    monkeypatch.setattr("paperlib.data.registry.check_paper_data", lambda *a, **k: None)


@pytest.mark.parametrize("config_class", [Ch1Config, Ch2Config, Ch5Config])
@pytest.mark.parametrize("profile", ["smoke", "embedded"])
def test_random_weights_are_for_the_paper_profile_only(config_class, profile):
    assert_rejected(config_class, config_class.PARAMS, {"profile": profile, "pretrained": "random"},
                    ["pretrained='random'", f"profile {profile!r}", "profile='paper'"])


def test_chapter_2_knows_only_random_as_its_weights_choice():
    assert_rejected(Ch2Config, Ch2Config.PARAMS, {"profile": "paper", "pretrained": "openai"}, ["pretrained", "random"])


def test_load_clip_random_builds_the_paper_model_without_downloading_and_says_so():
    bundle = load_clip("paper", pretrained=RANDOM)
    assert bundle.name == "ViT-B-32" and bundle.pretrained == RANDOM
    assert model_id(bundle.name, bundle.pretrained) == "ViT-B-32:random"  # never a cached pretrained run's key
    assert sum(p.numel() for p in bundle.model.visual.parameters()) > 80_000_000  # ViT-B/32's image tower
    with pytest.raises(ValueError, match="profile 'embedded' uses the shipped model"):
        load_clip("embedded", pretrained=RANDOM)


def test_a_fake_root_gets_its_own_run_cache(tmp_path, monkeypatch):
    """A rehearsal's runs (keyed like real ones: chapters 3 and 4 do not key their data) must never answer for a real
    run: on a fake root the cache moves to a folder named after its manifest, once."""
    monkeypatch.setenv("PAPERLIB_CACHE", str(tmp_path / "cache"))
    fake, real = tmp_path / "fake", tmp_path / "real"
    fake.mkdir(), real.mkdir()
    (fake / kit.FAKE_ROOT_MANIFEST).write_text('{"seed": 0}')
    assert kit.fake_root_cache(dict(profile="paper", data_root=str(real))) is None
    assert kit.fake_root_cache(dict(profile="embedded", data_root=str(fake))) is None
    assert os.environ["PAPERLIB_CACHE"] == str(tmp_path / "cache")
    moved = kit.fake_root_cache(dict(profile="paper", data_root=str(fake)))
    assert moved.parent == tmp_path / "cache" and moved.name.startswith("rehearsal-")
    assert os.environ["PAPERLIB_CACHE"] == str(moved)
    assert kit.fake_root_cache(dict(profile="paper", data_root=str(fake))) == moved  # idempotent
    (fake / kit.FAKE_ROOT_MANIFEST).write_text('{"seed": 1}')  # another fake root: another folder
    monkeypatch.setenv("PAPERLIB_CACHE", str(tmp_path / "cache"))
    assert kit.fake_root_cache(dict(profile="paper", data_root=str(fake))) != moved


def test_a_rehearsal_labels_every_table(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PAPERLIB_CACHE", str(tmp_path / "cache"))  # a fake root moves the run cache (restored after)
    (tmp_path / kit.FAKE_ROOT_MANIFEST).write_text("{}")
    rows = [dict(quantity="acc", paper=50.0, ours=40.0)]
    try:
        assert kit.note_rehearsal(dict(profile="paper", data_root=str(tmp_path), pretrained="random"))
        assert "random weights" in kit.rehearsal_of(dict(profile="paper", pretrained="random", data_root=str(tmp_path)))
        table = kit.paper_vs_ours(rows, "paper")
        assert "ours (paper, REHEARSAL)" in table.columns
        caption = kit.styled(table, "Table 1").caption
        assert caption.startswith("REHEARSAL") and "fake data root" in caption and caption.endswith("Table 1")
        from paperlib.report import profile_label
        assert profile_label("paper", "DTD").endswith("say nothing about the paper")
        namespace = notebook_namespace(Ch2Config.PARAMS, {"profile": "paper", "pretrained": "random",
                                                          "data_root": str(tmp_path)})
        Ch2Config.from_namespace(namespace)
        assert "⚠ REHEARSAL: random weights (pretrained='random') and a fake data root" in capsys.readouterr().out
    finally:
        kit.note_rehearsal({})
    assert profile_label("paper", "DTD") == "profile: paper · data: DTD"
    table = kit.paper_vs_ours(rows, "paper")
    assert "ours (paper)" in table.columns and kit.styled(table, "Table 1").caption == "Table 1"
    assert kit.rehearsal_of(dict(profile="paper", data_root=str(tmp_path.parent))) is None  # a real data root
    assert isinstance(table, pd.DataFrame)


@pytest.mark.parametrize("chapter", sorted(rehearsal.OVERRIDES))
def test_each_rehearsal_passes_its_chapters_validation(chapter, tmp_path, monkeypatch):
    from paperlib.data import fake_root
    params = rehearsal.parameters(chapter, tmp_path)
    package = next(m for m in ("ch1_sequential_tangent_pcgrad", "ch2_factorized_tensor_networks", "ch3_smooth_transfer",
                               "ch4_transfer_vs_interference", "ch5_linear_layers_task_arithmetic")
                   if m.startswith(chapter))
    config_class = next(v for k, v in vars(importlib.import_module(f"paperlib.chapters.{package}")).items()
                        if k.endswith("Config") and k.startswith("Ch"))
    cfg = config_class.from_params(**params)
    assert cfg.profile == "paper"
    assert fake_root.MANIFEST == kit.FAKE_ROOT_MANIFEST


def test_an_unknown_rehearsal_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="ch0_embedded_benchmark.*allowed: ch"):
        rehearsal.parameters("ch0_embedded_benchmark", tmp_path)


# --- What the rehearsal found: the paper protocols' fixed sizes became parameters ---------------------------------

def test_ch4_probe_size_is_a_parameter_whose_paper_default_is_sec_3_4s():
    from paperlib.chapters.ch4_transfer_vs_interference import Ch4Config
    assert Ch4Config.from_params(profile="paper").protocol.probe_per_class == 50  # ch4 Sec. 3.4
    assert Ch4Config.from_params(profile="paper", probe_per_class=1).protocol.probe_per_class == 1
    assert_rejected(Ch4Config, Ch4Config.PARAMS, {"profile": "paper", "probe_per_class": 0}, ["probe_per_class", "1"])


def test_ch3_validation_split_is_a_paper_parameter():
    from paperlib.chapters.ch3_smooth_transfer import Ch3Config
    from paperlib.reference import CH3_TEXT
    assert Ch3Config.from_params(profile="paper").target_val == CH3_TEXT["target_val"]  # A.1 / A.2
    assert Ch3Config.from_params(profile="paper", target_val=4).target_val == {"objects": 4, "digits": 4}
    assert Ch3Config.from_params(profile="embedded").target_val is None
    assert_rejected(Ch3Config, Ch3Config.PARAMS, {"profile": "embedded", "target_val": 4},
                    ["target_val=4", "profile 'embedded'"])


def test_ch2_rehearsal_parameters():
    cfg = Ch2Config.from_params(profile="paper", domains=["DomainNet:clipart", "STL10"], batch_size=4, steps=1,
                                vit_steps=2, eval_images=8, loader_workers=0)
    assert cfg.domains == {"i2s": (), "domainnet": ("DomainNet:clipart",)} and cfg.vit_datasets == ("STL10",)
    conv = cfg.conv_protocol
    assert (conv.batch_size, conv.accumulate, conv.steps_for(10_000)) == (4, 1, 1)
    assert (cfg.vit_protocol.batch_size, cfg.vit_protocol.steps_for(10_000)) == (4, 2)
    assert (cfg.eval_images, cfg.loader_workers) == (8, 0)
    paper = Ch2Config.from_params(profile="paper")
    assert (paper.conv_protocol.batch_size, paper.conv_protocol.accumulate, paper.loader_workers) == (32, 8, 8)
    assert_rejected(Ch2Config, Ch2Config.PARAMS, {"profile": "paper", "domains": ["DomainNet:nowhere"]},
                    ["domains", "DomainNet:nowhere", "allowed", "DomainNet:clipart"])
    assert_rejected(Ch2Config, Ch2Config.PARAMS, {"profile": "embedded", "eval_images": 8},
                    ["eval_images=8", "profile 'embedded'"])


def test_ch2_eval_images_cuts_val_and_test_to_one_fixed_subset():
    import torch
    from torch.utils.data import TensorDataset

    from paperlib.chapters.ch2_factorized_tensor_networks.experiment import _limited
    from paperlib.ftn_train import StreamedSplits
    split = TensorDataset(torch.arange(20))
    data = StreamedSplits("d", 2, split, split, split, 0)
    cut = _limited(data, 5)
    assert cut.train is split and len(cut.val) == len(cut.test) == 5
    assert [int(x) for (x,) in cut.val] == [int(x) for (x,) in _limited(data, 5).test]  # the same, every time
    assert _limited(data, None) is data and _limited(data, 50).test is split


@pytest.mark.parametrize("config_class", [Ch1Config, Ch5Config])
def test_clip_chapters_take_eval_images_on_paper_only(config_class):
    """Chapter 1 tested every task after every target on its whole split: 107 s of zero-shot heads and evaluation
    before its first run in the rehearsal. ``eval_images`` caps every evaluation split, as chapter 2's does."""
    assert config_class.from_params(profile="paper", eval_images=4).eval_images == 4
    assert config_class.from_params(profile="paper").eval_images is None
    assert_rejected(config_class, config_class.PARAMS, {"profile": "embedded", "eval_images": 4},
                    ["eval_images=4", "applies to the paper profile", "profile 'embedded'"])
    assert_rejected(config_class, config_class.PARAMS, {"profile": "paper", "eval_images": 0}, ["eval_images", "1"])


def test_chapter_1_alpha_grid_is_a_parameter_defaulting_to_the_profiles():
    from paperlib.arithmetic import ALPHA_GRIDS
    assert Ch1Config.from_params(profile="smoke").alpha_grid == ALPHA_GRIDS["smoke"]
    assert Ch1Config.from_params(profile="paper").alpha_grid == ALPHA_GRIDS["paper"]  # ch5 Appendix A
    assert Ch1Config.from_params(profile="paper", alpha_grid=[0.0, 1.0]).alpha_grid == (0.0, 1.0)
    assert_rejected(Ch1Config, Ch1Config.PARAMS, {"profile": "paper", "alpha_grid": [-1.0]}, ["alpha_grid", "-1"])


def test_eval_images_keys_runs_apart_and_leaves_whole_split_identities_as_they_were():
    """Adding the field must not re-key every cached run and sequence: it joins an identity only when set."""
    from paperlib.finetune import FinetuneConfig, _identity
    from paperlib.sequential import SequenceSpec
    bundle = load_clip("smoke")
    whole = FinetuneConfig(task="textures", profile="smoke").resolved()
    assert "eval_images" not in _identity(whole, bundle)
    cut = FinetuneConfig(task="textures", profile="smoke", eval_images=4).resolved()
    assert _identity(cut, bundle)["eval_images"] == 4
    with pytest.raises(ValueError, match="eval_images"):
        FinetuneConfig(task="textures", profile="smoke", eval_images=0).resolved()
    spec = dict(method="S-TL", order=("a",), seed=0, profile="smoke", weights="w", lr=1e-3, batch_size=4,
                weight_decay=0.1, grad_clip=1.0, iterations=(("a", 1),), warmup=(("a", 0),), btl_vectors=(),
                eval_tasks=("a",))
    assert "eval_images" not in SequenceSpec(**spec).identity()
    assert SequenceSpec(**spec, eval_images=4).identity()["eval_images"] == 4


def test_limited_takes_one_fixed_subset_of_a_split_in_its_order():
    import torch
    from torch.utils.data import TensorDataset

    from paperlib.clip_tasks import labels_of, whole_split
    from paperlib.data.dataset import limited
    split = TensorDataset(torch.arange(20))
    cut = limited(split, 5)
    picked = [int(x) for (x,) in cut]
    assert len(picked) == 5 and picked == sorted(picked) and picked == [int(x) for (x,) in limited(split, 5)]
    assert limited(split, None) is split and limited(split, 20) is split
    data = get_dataset_smoke()
    x, y = whole_split(limited(data, 3))
    idx = limited(data, 3).indices
    assert torch.equal(x, data.tensors()[0][idx]) and torch.equal(y, data.tensors()[1][idx])
    assert torch.equal(labels_of(limited(data, 3)), y)


def get_dataset_smoke():
    from paperlib.data import get_dataset
    return get_dataset("street_digits", "test", profile="smoke")


def test_ch4_fits_without_enough_points_is_an_empty_table_not_a_crash():
    from paperlib.chapters.ch4_transfer_vs_interference.tables import fits
    scores = pd.DataFrame(dict(weighting=["uniform"] * 2, interference=[float("nan"), 1.0], transfer=[0.0, 1.0]))
    out = fits(scores)
    assert out.empty and out.index.name == "weighting" and "slope" in out.columns


def test_ch3_bn_figure_exists_without_an_ablation():
    import matplotlib.pyplot as plt

    from paperlib.chapters.ch3_smooth_transfer.figures import ablation_figure
    fig = ablation_figure(pd.DataFrame())
    assert fig is not None and "bn_ablation=False" in fig.axes[0].texts[0].get_text()
    plt.close(fig)


def test_a_run_shorter_than_the_protocols_warmup_cuts_the_warmup():
    from paperlib.finetune import PROTOCOLS, FinetuneConfig
    cfg = FinetuneConfig(task="MNIST", paradigm="non_linear", profile="paper", iterations=1).resolved()
    assert PROTOCOLS["paper"].warmup > 1 and cfg.warmup == 1
    assert FinetuneConfig(task="MNIST", paradigm="non_linear", profile="paper").resolved().warmup == \
        PROTOCOLS["paper"].warmup


def test_task_addition_with_a_zero_single_task_accuracy_says_how_it_chose_alpha(monkeypatch):
    import math

    from paperlib import arithmetic
    monkeypatch.setattr(arithmetic, "evaluate", lambda edited, coefs, sets: {t: 10.0 * coefs[t] for t in sets})
    sets = {"a": None, "b": None}
    out = arithmetic.task_addition(None, sets, sets, {"a": 0.0, "b": 50.0}, {"a": 0.0, "b": 50.0}, grid=(0.0, 1.0))
    assert out["alpha"] == 1.0 and out["criterion"].startswith("absolute") and "a" in out["criterion"]
    assert math.isnan(out["normalized"])
    ok = arithmetic.task_addition(None, sets, sets, {"a": 20.0, "b": 20.0}, {"a": 20.0, "b": 20.0}, grid=(0.0, 1.0))
    assert ok["criterion"] == "normalized" and ok["normalized"] == 50.0


def test_the_rehearsal_book_leaves_out_the_chapters_it_did_not_run(tmp_path):
    import sys

    import yaml
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "scripts"))
    import book
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    (chapters / "ch3_smooth_transfer.ipynb").write_text("{}")
    toc = tmp_path / "_toc.yml"
    toc.write_text(yaml.safe_dump({"root": "book/intro", "parts": [
        {"caption": "A", "chapters": [{"file": "book/chapters/ch1_sequential_tangent_pcgrad"}]},
        {"caption": "B", "chapters": [{"file": "book/chapters/ch3_smooth_transfer"}, {"file": "book/bench"}]}]}))
    assert book._prune_toc(toc, chapters) == ["book/chapters/ch1_sequential_tangent_pcgrad"]
    parts = yaml.safe_load(toc.read_text())["parts"]
    assert [p["caption"] for p in parts] == ["B"] and len(parts[0]["chapters"]) == 2
