"""Execute the chapter notebooks with papermill and stage/build the Jupyter Book.

Used by the Makefile:

* ``python scripts/book.py execute --profile embedded --out book/chapters``: run every
  ``notebooks/ch*.ipynb`` with the ``profile`` parameter into ``--out`` (the book reads the executed
  copies; ``execute_notebooks`` is off in ``_config.yml``). Expensive steps inside the notebooks go
  through paperlib's run cache, so a second execution is fast.
* ``python scripts/book.py stage --chapters DIR --out STAGE``: copy ``_config.yml``, ``_toc.yml``
  and ``book/`` into ``STAGE`` with ``DIR``'s notebooks as ``book/chapters`` (``make test`` builds
  the smoke-profile book there, so it never overwrites the default book).
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]


#: Chapters that reuse another chapter's cached runs execute after it: chapter 1's B-Stand / B-TL
#: single-task runs are chapter 5's (the same configs), so chapter 5 runs first.
RUN_FIRST = ("ch0", "ch5")


def _execution_rank(nb: Path) -> tuple[int, str]:
    prefix = nb.stem.split("_", 1)[0]
    return (RUN_FIRST.index(prefix) if prefix in RUN_FIRST else len(RUN_FIRST), nb.stem)


def execute(profile: str, out: Path, only: list[str] | None = None, extra: dict | None = None, jobs: int = 1,
            params_for: Callable[[str], dict] | None = None, waves: bool = True, prepare_only: bool = False) -> None:
    """Execute the chapters in ``profile`` into ``out``; ``jobs`` notebooks at a time (each in its own
    kernel with one torch thread when more than one runs), the chapters of ``RUN_FIRST`` before the others.
    ``params_for(stem)``, when given, returns each notebook's parameters instead of ``profile`` + ``extra``;
    ``waves=False`` starts every chapter as soon as a job is free (no chapter waits for another's runs);
    ``prepare_only`` writes each notebook with its parameters injected and executes nothing (what nbval then runs)."""
    import papermill as pm
    from tqdm.auto import tqdm

    from paperlib.config import check_profile

    check_profile(profile)
    notebooks = sorted((ROOT / "notebooks").glob("ch*.ipynb"), key=_execution_rank)
    if only:
        notebooks = [nb for nb in notebooks if any(nb.stem.startswith(o) for o in only)]
        if not notebooks:
            have = [p.stem for p in (ROOT / "notebooks").glob("ch*.ipynb")]
            raise SystemExit(f"no notebook matches {only}; have: {have}")
    if jobs < 1:
        raise SystemExit(f"--jobs {jobs}: allowed is an integer ≥ 1")
    # papermill's cwd= changes the process's working directory while a notebook runs: with notebooks side by
    # side every path must be absolute, and the directory is put back at the end.
    out, here = out.resolve(), os.getcwd()
    out.mkdir(parents=True, exist_ok=True)
    # The kernels inherit this: progress bars inside the executed (rendered) notebooks print at most
    # once a minute instead of filling the page (tqdm reads TQDM_* defaults from the environment).
    os.environ.setdefault("TQDM_MININTERVAL", "60")
    if jobs > 1:  # kernels side by side share the cores instead of each taking them all
        os.environ.setdefault("OMP_NUM_THREADS", "1")
    bar = tqdm(total=len(notebooks), desc=f"chapters ({profile})", unit="nb")

    def run(nb: Path) -> None:
        start = time.perf_counter()
        tmp = out / f".{nb.stem}.tmp.ipynb"
        params = params_for(nb.stem) if params_for else dict(profile=profile, **(extra or {}))
        pm.execute_notebook(str(nb), str(tmp), parameters=params, prepare_only=prepare_only,
                            cwd=str(ROOT / "notebooks"), progress_bar=False, kernel_name="python3")
        tmp.replace(out / nb.name)  # nothing half-written: rename only a finished execution
        tqdm.write(f"{nb.stem}: {time.perf_counter() - start:.1f} s ({profile}{', side by side' if jobs > 1 else ''})")
        bar.update()

    first = [nb for nb in notebooks if _execution_rank(nb)[0] < len(RUN_FIRST)] if waves else notebooks
    try:
        for wave in (first, [nb for nb in notebooks if nb not in first]):
            with ThreadPoolExecutor(jobs) as pool:
                for f in [pool.submit(run, nb) for nb in wave]:
                    f.result()
    finally:
        os.chdir(here)
        bar.close()


def rehearse(out: Path, data: Path, only: list[str] | None = None, jobs: int = 1) -> None:
    """The paper profile's rehearsal (:mod:`paperlib.rehearsal`): write the fake data root ``data`` (kept between
    runs: it is rewritten only when its manifest differs), then execute every chapter that has a rehearsal in
    ``paper`` on it into ``out``."""
    from paperlib import rehearsal
    from paperlib.data.fake_root import write_fake_root

    # The rehearsal's runs go to their own cache, beside its notebooks: they are keyed like real paper runs, and
    # must never answer for one (each chapter's validation cell also moves a fake root's runs into a folder of the
    # cache named after its manifest: paperlib.chapters.kit.fake_root_cache).
    out, data = out.resolve(), data.resolve()  # absolute before papermill changes the working directory
    os.environ["PAPERLIB_CACHE"] = str(out.parent / "cache")
    os.environ.setdefault("PAPERLIB_LOADER_WORKERS", "0")  # a handful of images: no DataLoader processes
    start = time.perf_counter()
    write_fake_root(data)
    print(f"fake data root {data}: {time.perf_counter() - start:.1f} s")
    chapters = [c for c in rehearsal.OVERRIDES if not only or c in only]
    if not chapters:
        raise SystemExit(f"no rehearsal matches {only}; have: {sorted(rehearsal.OVERRIDES)}")
    # One wave: chapter 1's single-task runs may be chapter 5's (the same run identity); the run cache's lock lets
    # one train it and the other load it, so the two need not wait for each other's whole notebook.
    execute("paper", out, chapters, jobs=jobs, params_for=lambda stem: rehearsal.parameters(stem, data), waves=False)


def _prune_toc(toc: Path, chapters: Path) -> list[str]:
    """Drop from the staged ``toc`` the chapter pages that ``chapters`` does not hold (the rehearsal's book has no
    chapter 0, which has no paper profile); returns the dropped entries."""
    import yaml
    data = yaml.safe_load(toc.read_text())
    have = {p.stem for p in chapters.glob("*.ipynb")}
    dropped = []
    for part in data.get("parts", []):
        keep = []
        for entry in part.get("chapters", []):
            f = entry.get("file", "")
            if f.startswith("book/chapters/") and Path(f).name not in have:
                dropped.append(f)
            else:
                keep.append(entry)
        part["chapters"] = keep
    data["parts"] = [part for part in data.get("parts", []) if part["chapters"]]  # a part needs a chapter
    toc.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return dropped


def stage(chapters: Path, out: Path, prune: bool = False) -> None:
    """Stage the book with ``chapters``' executed notebooks; ``prune`` drops the chapters it lacks from the toc."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(ROOT / name, out / name)
    shutil.copytree(ROOT / "book", out / "book", ignore=shutil.ignore_patterns("chapters", "_build"))
    shutil.copytree(chapters, out / "book" / "chapters", ignore=shutil.ignore_patterns(".*"))
    if prune:
        for f in _prune_toc(out / "_toc.yml", chapters):
            print(f"stage: {f} is not among {chapters}'s notebooks; left out of this book")
    from paperlib.equations import markdown  # the equations page, written from the docstrings as they are
    (out / "book" / "equations.md").write_text(markdown())


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("execute", help="run the chapter notebooks with papermill")
    e.add_argument("--profile", default="embedded")
    e.add_argument("--out", type=Path, default=ROOT / "book" / "chapters")
    e.add_argument("--only", nargs="*", help="chapter prefixes, e.g. ch0 ch5")
    e.add_argument("--jobs", type=int, default=1, help="notebooks executed side by side (default 1)")
    e.add_argument("--prepare-only", action="store_true",
                   help="inject the parameters and execute nothing (the notebooks nbval then executes)")
    r = sub.add_parser("rehearse", help="run every chapter in the paper profile on a fake data root")
    r.add_argument("--out", type=Path, default=ROOT / "_build" / "paper" / "chapters")
    r.add_argument("--data", type=Path, default=ROOT / "_build" / "paper" / "data")
    r.add_argument("--only", nargs="*", help="chapter prefixes, e.g. ch3 ch4")
    r.add_argument("--jobs", type=int, default=1, help="notebooks executed side by side (default 1)")
    s = sub.add_parser("stage", help="copy the book sources with other executed chapters")
    s.add_argument("--chapters", type=Path, required=True)
    s.add_argument("--out", type=Path, required=True)
    s.add_argument("--prune", action="store_true", help="leave the chapters --chapters lacks out of the toc")
    a = p.parse_args(argv)
    if a.cmd == "execute":
        execute(a.profile, a.out, a.only, jobs=a.jobs, prepare_only=a.prepare_only)
    elif a.cmd == "rehearse":
        rehearse(a.out, a.data, a.only, a.jobs)
    else:
        stage(a.chapters, a.out, a.prune)


if __name__ == "__main__":
    main()
