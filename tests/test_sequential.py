"""Sequential fine-tuning (ch1 Secs. 3.3–3.4, 5.2): method names, orders, multi-round bookkeeping,
and short smoke-profile sequences (reuse of single-task runs, shared prefixes, resuming)."""

import dataclasses
import shutil

import pytest
import torch
from killing import orphans, run_until_killed

from paperlib import sequential as S
from paperlib.chapters import ch1_sequential_tangent_pcgrad as ch1
from paperlib.clip_tasks import zero_shot
from paperlib.config import cache_dir
from paperlib.models.clip import load_clip

TARGETS = ("a", "b", "c", "d")


@pytest.mark.parametrize("name, family, paradigm, calibration, c, n, pre", [
    ("CLIP", "zero_shot", None, "none", 0.0, 1, None),
    ("B-Stand", "merge", "non_linear", "none", 0.0, 1, None),
    ("B-TL", "merge", "linearized", "none", 0.0, 1, None),
    ("S-Stand", "sequential", "non_linear", "none", 0.0, 1, ("pcgrad", 0.5)),
    ("S-TL", "sequential", "linearized", "none", 0.0, 1, None),
    ("S-TL-p0.5", "sequential", "linearized", "pcgrad", 0.5, 1, ("pcgrad", 0.5)),
    ("S-TL-p1", "sequential", "linearized", "pcgrad", 1.0, 1, ("pcgrad", 1.0)),
    ("S-TL-p0.5-11", "sequential", "linearized", "pcgrad", 0.5, 11, ("pcgrad", 0.5)),
    ("S-TL-a0.5", "sequential", "linearized", "sign", 0.5, 1, ("sign", 0.5)),
])
def test_parse_method(name, family, paradigm, calibration, c, n, pre):
    m = S.parse_method(name)
    assert (m.family, m.paradigm, m.calibration, m.c, m.rounds, m.precalibration) == (family, paradigm, calibration,
                                                                                      c, n, pre)


@pytest.mark.parametrize("name, match", [("S-TL-p1.5", "out of range"), ("S-TL-p0.5-0", "rounds n=0"),
                                         ("PCGrad", "unknown method"), ("S-TL-x0.5", "unknown method"),
                                         (3, "strings")])
def test_bad_methods_raise(name, match):
    with pytest.raises(ValueError, match=match):
        S.parse_method(name)


def test_method_name_round_trips():
    assert S.method_name("pcgrad", 0.5, 11) == "S-TL-p0.5-11"
    assert S.method_name("sign", 1, 1) == "S-TL-a1"
    assert S.parse_method(S.method_name("pcgrad", 0.25, 3)).c == 0.25
    with pytest.raises(ValueError, match="strength"):
        S.method_name("pcgrad", 1.5)


def test_orders_must_be_permutations_of_the_targets():
    assert S.check_order(("b", "a", "d", "c"), TARGETS) == ("b", "a", "d", "c")
    with pytest.raises(ValueError, match="repeats"):
        S.check_order(("a", "a", "c", "d"), TARGETS)
    with pytest.raises(ValueError, match="unknown"):
        S.check_order(("a", "b", "c", "x"), TARGETS)
    with pytest.raises(ValueError, match="misses"):
        S.check_order(("a", "b", "c"), TARGETS)
    orders = S.all_orders(TARGETS)
    assert len(orders) == 24 == len(set(orders))


def test_curriculum_is_descending_single_task_accuracy():
    # Sec. 3.4: easiest (most accurate) first; illustrative accuracies that give the paper's order
    acc = {"DTD": 77.0, "Cars": 78.0, "EuroSAT": 99.0, "RESISC45": 96.0}
    assert S.curriculum_order(acc) == ("EuroSAT", "RESISC45", "Cars", "DTD")
    assert S.curriculum_order({"b": 50.0, "a": 50.0, "c": 60.0}) == ("c", "a", "b")  # ties: by name
    with pytest.raises(ValueError, match="numbers"):
        S.curriculum_order({"a": float("nan")})


@pytest.mark.parametrize("n", [1, 2, 3, 5, 11, 36])
def test_multi_round_keeps_iterations_per_task(n):
    its, warm = {"a": 36, "b": 37, "c": 40, "d": 50}, {"a": 4, "b": 4, "c": 8, "d": 0}
    segs = S.plan_segments(TARGETS, its, warm, n)
    assert len(segs) == 4 * n
    assert [s.task for s in segs[:4]] == list(TARGETS)  # round by round, the order within each
    for t in TARGETS:
        assert sum(s.iterations for s in segs if s.task == t) == its[t]
        assert all(0 <= s.warmup <= s.iterations for s in segs if s.task == t)
    assert max(s.round for s in segs) == n - 1
    assert S.split_iterations(10, 3) == [4, 3, 3]


def test_bad_rounds_raise():
    with pytest.raises(ValueError, match="rounds"):
        S.split_iterations(10, 0)
    with pytest.raises(ValueError, match="exceeds"):
        S.split_iterations(4, 5)


def test_paper_iterations_come_from_epochs():
    assert S.iterations_per_task("EuroSAT", "paper", 2000, n_train=21600, batch_size=128) == 12 * 169
    assert S.iterations_per_task("land_cover", "embedded", 36) == 36
    with pytest.raises(ValueError, match="train split"):
        S.iterations_per_task("DTD", "paper", 2000)


def test_summarize():
    test = {"a": 10.0, "b": 20.0, "r1": 40.0, "r2": 60.0}
    assert S.summarize(test, ["a", "b"], ["r1", "r2"]) == {"tgt": 15.0, "ref": 50.0, "all": 32.5}


# --- short sequences on the smoke profile ----------------------------------------------------------

def four_task_config():
    """The smoke profile with all four targets and references of ch1 Sec. 4 (the smoke chapter keeps two
    of each; these tests need orders of four tasks)."""
    cfg = ch1.Ch1Config.from_params(profile="smoke", methods=["CLIP", "B-TL", "S-TL", "S-TL-p1", "S-TL-p0.5-2"])
    targets, references, _ = ch1.roles("embedded")  # the smoke domains are the embedded ones
    return dataclasses.replace(cfg, targets=targets, references=references)


@pytest.fixture(scope="module")
def chapter():
    c = ch1.Chapter1(four_task_config(), progress=False)
    c.train_single()
    return c


def test_s_tl_starts_from_the_single_task_run(chapter):
    res = chapter.sequencer.run(chapter.spec("S-TL", 0))
    first = res["segments"][0]
    assert first["from_single_task_run"] and first["task"] == chapter.curriculum(0)[0]
    assert [s["from_single_task_run"] for s in res["segments"][1:]] == [False] * 3
    assert set(res["test"]) == set(chapter.cfg.tasks)


def test_references_are_the_earlier_tasks_and_the_btl_vectors_first(chapter):
    res = chapter.sequencer.run(chapter.spec("S-TL-p0.5-2", 0))
    # round 1: the first task against the 3 B-TL vectors, then 1, 2, 3 earlier tasks; round 2: all 3 others
    assert [s["references"] for s in res["segments"]] == [3, 1, 2, 3, 3, 3, 3, 3]
    assert all(0.0 <= s["conflict_rate"] <= 1.0 for s in res["segments"])
    its = dict(chapter.spec("S-TL-p0.5-2", 0).iterations)
    for t in chapter.cfg.targets:
        assert sum(s["iterations"] for s in res["segments"] if s["task"] == t) == its[t]


class _Crash(Exception):
    """Stands for an interruption (a killed kernel, Ctrl-C)."""


def _forget_sequences():
    shutil.rmtree(cache_dir() / "runs" / "ch1_sequence", ignore_errors=True)


def test_shared_prefixes_give_the_same_results_as_separate_runs(chapter, monkeypatch):
    a, b = ("vehicles", "textures", "land_cover", "aerial_scenes"), ("vehicles", "textures", "aerial_scenes",
                                                                         "land_cover")
    specs = [chapter.spec("S-TL-p1", 0, order=o) for o in (a, b)]
    trained = []
    advance = S.Sequencer._advance

    def counting(self, spec, k, state, ckpt, resume=None):
        trained.append((spec.order, k))
        return advance(self, spec, k, state, ckpt, resume)

    monkeypatch.setattr(S.Sequencer, "_advance", counting)
    together = chapter.sequencer.run_all(specs)
    assert len(trained) == 4 + 2  # the two orders share their first two segments
    _forget_sequences()  # run them again, one by one
    trained.clear()
    apart = [chapter.sequencer.run(s) for s in specs]
    assert len(trained) == 8
    for x, y in zip(together, apart):
        assert x["test"] == y["test"]
        assert [s["final_loss"] for s in x["segments"]] == [s["final_loss"] for s in y["segments"]]


def test_merge_picks_alpha_by_mean_target_accuracy(chapter):
    bundle = chapter.bundle
    targets = chapter.cfg.targets[:2]
    vectors = {t: chapter.single[("linearized", 0, t)].task_vector() for t in targets}
    val = {t: chapter.val_sets[t] for t in targets}
    res = S.merge(bundle, "linearized", vectors, val, val, grid=[0.0, 0.5, 1.0])
    assert res["alpha"] in (0.0, 0.5, 1.0)
    best = max(res["val_curve"].values())
    assert res["val_curve"][str(res["alpha"])] == best
    assert sum(res["test"].values()) / 2 == pytest.approx(best)  # test = val here: the same numbers
    zero = S.merge(bundle, "linearized", vectors, val, val, grid=[0.0])  # α = 0 is the pre-trained model
    cfg = chapter.cfg
    zs = zero_shot(bundle, chapter.val_sets, chapter.test_sets, cfg.profile, cfg.val_per_class, None, "cpu",
                   cfg.test_per_class)
    assert zero["test"] == pytest.approx({t: zs[t]["val"] for t in targets})


def test_flat_gradients_work_with_the_linearized_model():
    bundle = load_clip("smoke")
    from paperlib.clip_tasks import build_encoder, trainable_parameters
    from paperlib.surgery import FlatGradients
    enc, names = build_encoder(bundle, "linearized")
    params = trainable_parameters(enc, names)
    flat = FlatGradients(params)
    enc.train()
    enc(torch.rand(2, 3, 32, 32)).sum().backward()
    flat.check()
    assert flat.vector.abs().sum() > 0


def test_a_killed_sequence_resumes_to_the_same_result(chapter):
    """A real SIGKILL while writing the third checkpoint of a two-round sequence; later segments (new
    optimizers, warm-ups) all come after the interruption."""
    order = ("textures", "land_cover", "aerial_scenes", "vehicles")
    spec = chapter.spec("S-TL-p0.5-2", 0, order=order)
    reference = chapter.sequencer.run(spec)
    _forget_sequences()
    run_until_killed(f"""
from paperlib.chapters import ch1_sequential_tangent_pcgrad as ch1
from test_sequential import four_task_config
c = ch1.Chapter1(four_task_config(), progress=False)
c.train_single()
c.sequencer.run(c.spec("S-TL-p0.5-2", 0, order={order!r}))
""", kill_at=3)
    assert orphans(cache_dir() / "runs" / "ch1_sequence")
    resumed = chapter.sequencer.run(spec)
    assert not orphans(cache_dir() / "runs" / "ch1_sequence")
    assert resumed["test"] == reference["test"]
    assert [s["final_loss"] for s in resumed["segments"]] == [s["final_loss"] for s in reference["segments"]]


def test_families_on_workers_give_the_results_of_one_process(chapter, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from paperlib.chapters.kit import WorkerPool
    a, b = ("vehicles", "textures", "land_cover", "aerial_scenes"), ("vehicles", "textures", "aerial_scenes",
                                                                         "land_cover")
    c = ("textures", "vehicles", "land_cover", "aerial_scenes")
    families = S.Sequencer.families([chapter.spec("S-TL-p1", 0, order=o) for o in (a, b, c, a)])
    assert sorted(map(len, families)) == [1, 2] and {s.order for s in families[0]} == {a, b}  # shared first segment
    specs = [chapter.spec("S-Stand", 0, order=o) for o in (a, c)]
    _forget_sequences()
    here = chapter.sequencer.run_all(specs)
    _forget_sequences()
    jobs, job = [], ch1.experiment._sequences_in_worker
    monkeypatch.setattr(ch1.experiment, "_sequences_in_worker",
                        lambda cfg, j: jobs.append(len(j[1])) or job(cfg, j))
    monkeypatch.setattr(chapter, "pool", WorkerPool(1, ThreadPoolExecutor(1)))  # the worker builds its own sequencer
    there = chapter._run_sequences(specs, "on workers")
    assert jobs == [1, 1]
    assert [r["test"] for r in there] == [r["test"] for r in here]
    assert [[s["final_loss"] for s in r["segments"]] for r in there] == [[s["final_loss"] for s in r["segments"]]
                                                                         for r in here]
