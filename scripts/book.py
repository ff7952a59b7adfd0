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

ROOT = Path(__file__).resolve().parents[1]


#: Chapters that reuse another chapter's cached runs execute after it: chapter 1's B-Stand / B-TL
#: single-task runs are chapter 5's (the same configs), so chapter 5 runs first.
RUN_FIRST = ("ch0", "ch5")


def _execution_rank(nb: Path) -> tuple[int, str]:
    prefix = nb.stem.split("_", 1)[0]
    return (RUN_FIRST.index(prefix) if prefix in RUN_FIRST else len(RUN_FIRST), nb.stem)


def execute(profile: str, out: Path, only: list[str] | None = None, extra: dict | None = None, jobs: int = 1) -> None:
    """Execute the chapters in ``profile`` into ``out``; ``jobs`` notebooks at a time (each in its own
    kernel with one torch thread when more than one runs), the chapters of ``RUN_FIRST`` before the others."""
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
        pm.execute_notebook(str(nb), str(tmp), parameters=dict(profile=profile, **(extra or {})),
                            cwd=str(ROOT / "notebooks"), progress_bar=False, kernel_name="python3")
        tmp.replace(out / nb.name)  # nothing half-written: rename only a finished execution
        tqdm.write(f"{nb.stem}: {time.perf_counter() - start:.1f} s ({profile}{', side by side' if jobs > 1 else ''})")
        bar.update()

    first = [nb for nb in notebooks if _execution_rank(nb)[0] < len(RUN_FIRST)]
    try:
        for wave in (first, [nb for nb in notebooks if nb not in first]):
            with ThreadPoolExecutor(jobs) as pool:
                for f in [pool.submit(run, nb) for nb in wave]:
                    f.result()
    finally:
        os.chdir(here)
        bar.close()


def stage(chapters: Path, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(ROOT / name, out / name)
    shutil.copytree(ROOT / "book", out / "book", ignore=shutil.ignore_patterns("chapters", "_build"))
    shutil.copytree(chapters, out / "book" / "chapters", ignore=shutil.ignore_patterns(".*"))
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
    s = sub.add_parser("stage", help="copy the book sources with other executed chapters")
    s.add_argument("--chapters", type=Path, required=True)
    s.add_argument("--out", type=Path, required=True)
    a = p.parse_args(argv)
    if a.cmd == "execute":
        execute(a.profile, a.out, a.only, jobs=a.jobs)
    else:
        stage(a.chapters, a.out)


if __name__ == "__main__":
    main()
