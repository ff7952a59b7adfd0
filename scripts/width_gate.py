"""Chapter 4's premise gate: does independent accuracy stop falling with width when every width
trains longer? (issue 13; chapter 4's section "Is the miniature in the paper's regime?")

With equal epochs, chapter 4's widest ResNet-32s are its least trained: on the embedded profile
independent accuracy peaks at 1x and falls at 2x, so the paper's capacity claims cannot be tested
there. This script trains the independent models of every width (first seed, through the run cache)
at each number of single-domain epochs given, and prints :func:`paperlib.chapters.
ch4_transfer_vs_interference.width_gate` for each: mean independent test accuracy per width and
whether it falls from one width to the next. Joint models get 300/250 of the epochs in the chapter;
this measures the independent ones only, which the gate is about::

    python scripts/width_gate.py --epochs 4 8 16
    python scripts/width_gate.py --epochs 4 8 16 --out book/regime/ch4/widths.json --label "..."

``--out`` records the measurement (accuracies, seconds, commit) for chapter 4's table.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, nargs="+", default=[4, 8, 16], help="single-domain epochs to try")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: the profile's)")
    parser.add_argument("--out", type=Path, help="also write the measurement to this JSON file")
    parser.add_argument("--label", default="", help="what this measurement tries (recorded with --out)")
    args = parser.parse_args(argv)

    import pandas as pd

    from paperlib.chapters import ch4_transfer_vs_interference as ch4
    from paperlib.config import git_commit
    from paperlib.store import atomic_write_json

    sweeps = []
    for epochs in args.epochs:
        given = {"profile": "embedded", "seeds": "[0]", "epochs": epochs}
        if args.workers is not None:
            given["workers"] = args.workers
        cfg = ch4.Ch4Config.from_params(**given)
        chapter = ch4.Chapter4(cfg)
        start = time.perf_counter()
        results = chapter.train([s for s in chapter.specs() if len(s.domains) == 1])
        seconds = time.perf_counter() - start
        chapter.pool.shutdown()
        rows = [dict(width=s.width, domain=s.domains[0], acc=r["domains"][s.domains[0]]["acc"])
                for s, r in results.items()]
        gate = ch4.width_gate(pd.DataFrame(rows))
        print(f"{epochs} single-domain epochs ({seconds:.0f} s, cached models load):")
        print(gate.to_string(float_format=lambda v: f"{v:.1f}"))
        sweeps.append(dict(epochs=epochs, seconds=seconds, rows=rows))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(dict(label=args.label, date=date.today().isoformat(), commit=git_commit(),
                               workers=cfg.workers, protocol=str(cfg.protocol), sweeps=sweeps), args.out)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
