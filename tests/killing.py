"""Kill a real process mid-checkpoint (SIGKILL, no clean-up of any kind) to test resuming.

:func:`run_until_killed` runs ``body`` in a fresh Python process in which the ``kill_at``-th checkpoint
write (``Checkpoint.save``'s tensors file) writes a few bytes to its temporary file and then sends
the process SIGKILL, exactly what a power cut or an OOM kill does during a save. The process inherits
this test session's environment, so it shares its ``PAPERLIB_CACHE``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent

_PRELUDE = """
import os, signal, sys
sys.path.insert(0, {tests!r})
import paperlib.store as store
_real_save_file = store.save_file
_saves = [0]
def _dying_save_file(tensors, path, metadata=None):
    if ".ckpt.safetensors." in str(path):
        _saves[0] += 1
        if _saves[0] == {kill_at}:
            with open(path, "wb") as f:
                f.write(b"half a checkpoint")
            os.kill(os.getpid(), signal.SIGKILL)
    return _real_save_file(tensors, path, metadata=metadata)
store.save_file = _dying_save_file
"""


def run_until_killed(body: str, kill_at: int, timeout: float = 300) -> None:
    """Run ``body`` until its ``kill_at``-th checkpoint save kills it; fail if it ends any other way."""
    code = _PRELUDE.format(tests=str(TESTS), kill_at=kill_at) + body
    proc = subprocess.run([sys.executable, "-c", code], env=os.environ.copy(), capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == -signal.SIGKILL, f"not killed (exit {proc.returncode}):\n{proc.stderr[-3000:]}"


def orphans(folder: Path) -> list[Path]:
    """Temporary files left in ``folder`` (recursively) by killed writers."""
    return sorted(Path(folder).rglob(".*.tmp"))
