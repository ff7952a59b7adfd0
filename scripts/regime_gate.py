"""Is the embedded miniature in the papers' regime? (issue 13; chapter 5's section of that name)

Runs chapter 5's fine-tuning grid for the non-linear and linear-only paradigms (first seed, through
the run cache, so the chapter then loads the same runs) and prints
:func:`paperlib.chapters.ch5_linear_layers_task_arithmetic.regime_gate`: per paradigm, one task
vector's mean gain on its own task and mean change on the other tasks at α = 1, and the 8-task
addition's accuracy above zero-shot, each against its bound. Any chapter-5 parameter can be set to
try a protocol or a foundation model::

    python scripts/regime_gate.py                                  # the chapter's embedded protocol
    python scripts/regime_gate.py -p lr 1e-4 -p iterations 300     # another protocol
    python scripts/regime_gate.py -p pretrained path/to/model.safetensors --out gate.json

``--out book/regime/NAME.json --label "..."`` records an attempt for chapter 5's table of attempts
(:func:`paperlib.chapters.ch5_linear_layers_task_arithmetic.regime_attempts`): the gate with the
weights' checksum, the benchmark's tasks, the protocol, the commit and the time it took.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def _value(text: str):
    """A ``-p`` value as papermill's ``-p`` passes it: an int or a float where it reads as one, else
    the string (lists stay strings such as "[0, 1]"; the chapter's parameters parse them)."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="a chapter-5 parameter, as papermill's -p (lists as \"[a, b]\")")
    parser.add_argument("--out", type=Path, help="also write the gate and its settings to this JSON file")
    parser.add_argument("--label", default="", help="what this attempt tries (recorded with --out)")
    args = parser.parse_args(argv)

    from paperlib.chapters import ch5_linear_layers_task_arithmetic as ch5
    from paperlib.config import git_commit
    from paperlib.store import atomic_write_json

    given = {"profile": "embedded", "paradigms": "[non_linear, linear_only]", "variants": "[1]", "seeds": "[0]",
             **{k: _value(v) for k, v in args.p}}
    cfg = ch5.Ch5Config.from_params(**given)
    start = time.perf_counter()
    chapter = ch5.Chapter5(cfg)
    runs = chapter.train_all()
    single = ch5.single_task_table(runs, chapter.zero_shot(), list(cfg.paradigms))
    addition = chapter.task_addition()
    gate = ch5.regime_gate(cfg, single, addition, chapter.interference())
    print(cfg.summary())
    print(gate.to_string(float_format=lambda v: f"{v:+.1f}"))
    print(f"{time.perf_counter() - start:.0f} s")
    if args.out:
        record = ch5.attempt_record(cfg, runs, single, addition, gate, given, args.label,
                                    time.perf_counter() - start, git_commit())
        atomic_write_json(record, args.out)


if __name__ == "__main__":
    main()
