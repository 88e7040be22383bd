"""What the peer cross-check scripts (``peer_*.py``) share: the command line of a peer that runs
in its own interpreter, and running it there.

Each peer tool needs packages ternhw's environment cannot hold (SCALE-Sim and ZigZag want
numpy < 2; hwcomponents Python >= 3.12), so a script writes its inputs and a small driver to a
work folder and runs the driver with ``--peer-python``.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from ternhw.errors import TernhwError


def peer_parser(doc: str, needs: str) -> argparse.ArgumentParser:
    """``--peer-python`` (an interpreter with ``needs`` installed), ``--config``,
    ``--seq-len`` and ``--json``."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--peer-python", default=".peers/bin/python",
                    help=f"an interpreter with {needs} installed")
    ap.add_argument("--config", default="default")
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--json", type=Path)
    return ap


def missing_peer(python: str, install: str) -> str | None:
    """Why ``python`` cannot run the peer (with the command that installs it), or None."""
    if Path(python).exists():
        return None
    return (f"no interpreter at {python}: python -m venv .peers && .peers/bin/pip install "
            f"{install}")


def run_peer(what: str, cmd: list[str], *, cwd: Path | None = None, env: dict | None = None,
             output: Path | None = None) -> str:
    """Run ``cmd`` (the peer's interpreter and its driver); its stdout. A non-zero exit, or
    ``output`` not written, is a :class:`TernhwError` with the end of what it printed."""
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0 or (output is not None and not output.exists()):
        raise TernhwError(f"{what} failed:\n{(proc.stdout + proc.stderr)[-2000:]}")
    return proc.stdout
