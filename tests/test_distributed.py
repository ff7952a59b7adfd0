"""Grids and searches on a real Dask cluster over loopback (no mocks): results come back to the notebook's
process, which alone writes the run cache; a worker killed in the middle of a grid is survived."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

from paperlib.chapters import kit
from paperlib.chapters.ch4_transfer_vs_interference import Ch4Config, Chapter4

distributed = pytest.importorskip("distributed")


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    """A fresh run cache for the driver (this process)."""
    def use(name: str) -> Path:
        path = tmp_path / name
        monkeypatch.setenv("PAPERLIB_CACHE", str(path))
        return path
    return use


@pytest.fixture()
def one_thread():
    """Serial references computed with the Dask workers' thread count (float sums are then in the same order)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Two worker processes of one thread, with a cache folder of their own: nothing they write is
    visible to the driver, so results can only come back through Dask. One cluster for the module (its
    workers' start-up, imports included, is most of a test's time); a killed worker is replaced by its
    nanny."""
    from distributed import Client, LocalCluster
    worker_cache = tmp_path_factory.mktemp("worker-cache")
    environ = dict(os.environ)
    try:
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
                          env={"PAPERLIB_CACHE": str(worker_cache), "OMP_NUM_THREADS": "1"}) as lc, \
                Client(lc) as client:
            kit.restore_environ(environ)  # the nanny set its workers' variables here (OMP_NUM_THREADS=1, ...)
            yield client, worker_cache
    finally:
        kit.restore_environ(environ)


def _records(folder: Path) -> list[Path]:
    return sorted(p for p in (folder / "runs").glob("*/*.json") if not p.name.endswith(".ckpt.json"))


def _kill_a_worker_after_the_first_result(client, driver_cache: Path, total: int, report: dict) -> threading.Thread:
    """SIGKILL one worker process (its nanny starts a new one) once the driver has stored a first run and
    before it has stored them all."""
    pids = client.run(os.getpid)

    def kill():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            n = len(_records(driver_cache))
            if n >= 1:
                report["stored_at_kill"] = n
                os.kill(next(iter(pids.values())), signal.SIGKILL)
                return
            time.sleep(0.05)
    t = threading.Thread(target=kill, daemon=True)
    t.start()
    return t


def test_chapter4_grid_on_dask_equals_serial_and_survives_a_killed_worker(cache, one_thread, cluster):
    client, worker_cache = cluster
    from paperlib.data import benchmark
    domains = benchmark("ch4_trio", "smoke")[:2]  # 2 single-domain models and 1 joint one
    params = dict(profile="smoke", domains=domains, widths=[0.25], weightings=["cov"])
    cache("serial")
    serial = Chapter4(Ch4Config.from_params(**params, workers=1), progress=False).results()

    driver = cache("driver")
    chapter = Chapter4(Ch4Config.from_params(**params, workers=2), progress=False, executor=client.get_executor())
    report: dict = {}
    killer = _kill_a_worker_after_the_first_result(client, driver, len(serial), report)
    on_dask = chapter.results()
    killer.join(5)

    assert 1 <= report["stored_at_kill"] < len(serial), report  # killed in the middle of the grid
    assert on_dask == serial  # every accuracy, per-sample correctness and loss history
    assert len(_records(driver)) == len(serial) and not _records(worker_cache)  # only the driver wrote results


def test_the_executor_parameter_is_checked_before_any_work():
    p = kit.Params("demo", (kit.profile_param(), kit.workers_param(), kit.executor_param()),
                   checks=(kit.check_executor,))
    assert p.resolve(profile="smoke").executor is None
    assert p.resolve(profile="smoke", executor="dask").executor == "dask"
    for bad in ("localhost:8786", "tcp://", "tcp://host", "tcp://host:port", "tcp://host:70000", "http://host:8786"):
        with pytest.raises(ValueError, match=f"executor={bad!r} is not a Dask scheduler address"):
            p.resolve(profile="smoke", executor=bad)
    import socket
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    with pytest.raises(ValueError, match=f"executor='tcp://127.0.0.1:{free}': no Dask scheduler answers"):
        p.resolve(profile="smoke", executor=f"tcp://127.0.0.1:{free}")


def test_a_local_dask_cluster_leaves_the_environment_as_it_was():
    environ = dict(os.environ)
    pool = kit.WorkerPool(1, address="dask")
    try:
        assert pool.executor().submit(os.getenv, "OMP_NUM_THREADS").result() == str(kit.usable_cores())
        assert dict(os.environ) == environ
    finally:
        pool.shutdown()
    assert dict(os.environ) == environ


def test_a_scheduler_address_connects(cluster):
    client, _ = cluster
    address = client.scheduler.address
    p = kit.Params("demo", (kit.profile_param(), kit.workers_param(), kit.executor_param()),
                   checks=(kit.check_executor,))
    assert p.resolve(profile="smoke", executor=address).executor == address
    pool = kit.WorkerPool(1, address=address)
    try:
        assert pool.parallel
        assert pool.executor().submit(pow, 2, 10).result() == 1024
    finally:
        pool.shutdown()


def test_chapter3_search_on_dask_resumed_equals_the_serial_search(cache, one_thread, cluster):
    """The smoke search through 2 Dask workers, interrupted after its first round and resumed from its
    SQLite storage, ends with exactly the trials (ω, validation and test accuracy, early-stopping step) of
    one serial run."""
    from paperlib.chapters.ch3_smooth_transfer import Ch3Config, Chapter3
    client, worker_cache = cluster
    cache("serial")
    serial = Chapter3(Ch3Config.from_params(profile="smoke", workers=1), progress=False)
    expected = serial.search()

    driver = cache("driver")
    first = Chapter3(Ch3Config.from_params(profile="smoke", rounds=1), progress=False, executor=client.get_executor())
    assert set(first.search()["round"]) == {0}  # stopped after one round
    resumed = Chapter3(Ch3Config.from_params(profile="smoke", rounds=2), progress=False,
                       executor=client.get_executor())
    got = resumed.search()
    cols = ["pair", "n", "trial", "round", "t0", "tau", "alpha", "val", "test", "best_step"]
    pd.testing.assert_frame_equal(got[cols].reset_index(drop=True), expected[cols].reset_index(drop=True))
    assert (driver / "ch3" / "studies.sqlite3").exists() and not _records(worker_cache)
