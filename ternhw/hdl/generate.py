"""Verilog generation: ``ternhw generate --config CFG -o DIR``.

Writes ``<top>.v`` and ``manifest.json`` (files, top, config, ports, generator version,
SHA-256 of the Verilog). The output is deterministic: no source paths are embedded, so the
reference RTL under ``rtl/`` can be checked for staleness byte for byte.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

from .. import __version__
from ..config import AcceleratorConfig
from ..fileio import atomic_write_json, atomic_write_text

#: Verilator lint warnings waived for Amaranth's output, each with its reason.
LINT_WAIVERS = {
    "UNUSEDSIGNAL": "Amaranth/Yosys keep unused bits of wide buses (padding lanes, the upper bits "
                    "of sign-extended values, intermediate nets)",
    "WIDTHEXPAND": "Yosys's netlist zero/sign-extends operands implicitly",
    "WIDTHTRUNC": "Yosys's netlist truncates results implicitly",
    "PROCASSINIT": "Amaranth declares registers with their reset value as initializer "
                   "(reg x = init) and assigns them in always blocks",
    "CASEINCOMPLETE": "Amaranth assigns every combinational signal a default before its case "
                      "statement, so incomplete cases are intended",
    "DECLFILENAME": "one file holds the whole hierarchy, so module names differ from the file",
}


def top_name(cfg: AcceleratorConfig) -> str:
    return "ternhw_" + re.sub(r"[^A-Za-z0-9_]", "_", cfg.name)


@lru_cache(maxsize=8)
def to_verilog(cfg: AcceleratorConfig, fault: str | None = None, *,
               serial_io: bool = False) -> tuple[str, str]:
    """``(top module name, Verilog text)`` for ``cfg`` (``fault``: see ``ternhw.hdl.faults``;
    ``serial_io``: inside the five-pin placement wrapper of ``ternhw.hdl.serial_io``).

    Kept for the process's next call (the default config takes ~13 s to elaborate and
    convert; a simulation both builds and then runs it)."""
    from amaranth.back import verilog

    from .accelerator import TernaryAccelerator
    from .serial_io import SerialIoWrapper

    top = top_name(cfg)
    design = TernaryAccelerator(cfg, fault=fault)
    if serial_io:
        top, design = top + "_serial_io", SerialIoWrapper(design)
    text = verilog.convert(design, name=top, emit_src=False)
    return top, text


def ports_of(verilog_text: str, top: str) -> list[dict]:
    """The top module's ports: name, direction, width."""
    body = verilog_text.split(f"module {top}(", 1)[1].split("endmodule", 1)[0]
    ports = []
    for match in re.finditer(r"^\s*(input|output)\s+(?:wire\s+|reg\s+)?(?:\[(\d+):0\]\s+)?"
                             r"\\?([\w$]+)\s*;", body, re.MULTILINE):
        ports.append({"name": match.group(3), "direction": match.group(1),
                      "width": int(match.group(2)) + 1 if match.group(2) else 1})
    return ports


def generate(cfg: AcceleratorConfig, outdir: str | Path) -> dict:
    """Write the Verilog and ``manifest.json`` for ``cfg`` into ``outdir``; returns the manifest."""
    outdir = Path(outdir)
    top, text = to_verilog(cfg)
    vfile = f"{top}.v"
    atomic_write_text(outdir / vfile, text)
    manifest = {
        "top": top,
        "files": [vfile],
        "config": cfg.to_dict(),
        "ports": ports_of(text, top),
        "generator": f"ternhw {__version__}",
        "sha256": {vfile: hashlib.sha256(text.encode()).hexdigest()},
        "lint_waivers": LINT_WAIVERS,
    }
    atomic_write_json(outdir / "manifest.json", manifest)
    return manifest
