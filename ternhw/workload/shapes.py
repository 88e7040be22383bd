"""Workloads from plain lists of GEMM shapes: a TOML file, or SCALE-Sim's topology CSV.

Shape lists carry no weights and no activations: their layers get projected weights
(synthetic trits with a stated zero fraction) and co-simulation draws seeded random
activations; both are said wherever the workload is reported.

TOML (``docs/workloads.md``)::

    name = "BERT-base encoder, seq 128"   # optional: the file name
    tokens = 128              # optional: what per-token figures divide by (default 1)
    zero_fraction = 0.331     # optional: of the synthetic trits (default 0.331)
    [[layer]]
    name = "ffn.up"
    m = 128                   # tokens (rows of X)
    k = 768                   # reduction (columns of X and W)
    n = 3072                  # outputs (rows of W)
    count = 12                # optional: identical layers per pass (default 1)
    bias = false              # optional, also requant, zero_fraction

SCALE-Sim (v2/v3) topology CSV, either of its formats, recognised by the header:

* GEMM: ``Layer, M, N, K`` -- taken as is;
* convolution: ``Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width,
  Channels, Num Filter, Strides`` (or ``Stride height, Stride width``), turned into a GEMM by
  im2col as SCALE-Sim does: ``M`` = output pixels ``ceil((H - Fh + S) / S) x
  ceil((W - Fw + S) / S)``, ``K = Fh x Fw x C``, ``N`` = filters. A depthwise layer (``DP`` in
  its name, SCALE-Sim's convention) is ``C`` GEMMs of one channel each (``count = C``).

SCALE-Sim writes a trailing comma on every line; empty trailing cells are ignored, as are
columns this reader does not use.
"""

from __future__ import annotations

import csv
import math
import tomllib
from pathlib import Path

from ..errors import TernhwError
from .layer import DEFAULT_ZERO_FRACTION, Layer, Workload, check_dim, check_zero_fraction

TOML_TOP_KEYS = ("name", "tokens", "zero_fraction", "bias", "requant", "layer")
TOML_LAYER_KEYS = ("name", "m", "k", "n", "count", "bias", "requant", "zero_fraction")
GEMM_COLUMNS = ("Layer", "M", "N", "K")
CONV_COLUMNS = ("Layer name", "IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width",
                "Channels", "Num Filter", "Strides")
IM2COL_NOTE = ("convolutions as GEMMs by im2col (as SCALE-Sim maps them): M = output pixels, "
               "K = filter height x filter width x channels, N = filters")


def _projected_note(zf: float) -> str:
    return (f"projected: a shape list has no weights (synthetic trits, zero fraction {zf:g}) "
            "and no activations (co-simulation draws seeded random ones)")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise TernhwError(f"{path}: no such workload file") from None
    except UnicodeDecodeError as e:
        raise TernhwError(f"{path}: not a text file ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise TernhwError(f"{path}: {(e.strerror or str(e)).lower()}") from None


def _flag(value, what: str) -> bool:
    if not isinstance(value, bool):
        raise TernhwError(f"{what} must be true or false, not {value!r}")
    return value


# ---- TOML --------------------------------------------------------------------------------
def load_toml(path: str | Path) -> Workload:
    """The workload of a TOML shape list (format in the module docstring); every error names
    the file, the layer (index and name) and the key."""
    path = Path(path)
    try:
        doc = tomllib.loads(_read_text(path))
    except tomllib.TOMLDecodeError as e:
        raise TernhwError(f"{path}: not valid TOML: {e}") from None
    unknown = [k for k in doc if k not in TOML_TOP_KEYS]
    if unknown:
        raise TernhwError(f"{path}: unknown key {unknown[0]!r}; a workload file has "
                          f"{', '.join(TOML_TOP_KEYS)} ([[layer]] tables)")
    entries = doc.get("layer")
    if not entries:
        raise TernhwError(f"{path}: no [[layer]] tables: give at least one GEMM "
                          "(name, m, k, n)")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise TernhwError(f"{path}: 'layer' must be an array of tables ([[layer]])")
    name = doc.get("name", path.stem)
    if not isinstance(name, str) or not name:
        raise TernhwError(f"{path}: name must be a non-empty string, not {name!r}")
    tokens = check_dim(doc.get("tokens", 1), f"{path}: tokens")
    zf = check_zero_fraction(doc.get("zero_fraction", DEFAULT_ZERO_FRACTION),
                             f"{path}: zero_fraction")
    bias = _flag(doc.get("bias", False), f"{path}: bias")
    requant = _flag(doc.get("requant", False), f"{path}: requant")
    layers, seen = [], set()
    for i, e in enumerate(entries, 1):
        lname = e.get("name", f"layer{i}")
        where = f"{path}: layer {i}" + (f" ({lname!r})" if "name" in e else "")
        if not isinstance(lname, str) or not lname:
            raise TernhwError(f"{where}: name must be a non-empty string, not {lname!r}")
        bad = [k for k in e if k not in TOML_LAYER_KEYS]
        if bad:
            raise TernhwError(f"{where}: unknown key {bad[0]!r}; a layer has "
                              f"{', '.join(TOML_LAYER_KEYS)}")
        missing = [k for k in ("m", "k", "n") if k not in e]
        if missing:
            raise TernhwError(f"{where}: missing {', '.join(missing)} (a layer is an "
                              "m x k x n GEMM: m tokens, k reduction, n outputs)")
        if lname in seen:
            raise TernhwError(f"{where}: a second layer named {lname!r}")
        seen.add(lname)
        layers.append(Layer(
            lname, e["m"], e["k"], e["n"], count=e.get("count", 1),
            bias=_flag(e.get("bias", bias), f"{where}: bias"),
            requant=_flag(e.get("requant", requant), f"{where}: requant"),
            zero_fraction=e.get("zero_fraction", zf), seed=i - 1, where=where))
    zfs = sorted({layer.zero_fraction for layer in layers})
    return Workload(f"{name} (projected)", layers, tokens, str(path),
                    [_projected_note(zfs[0]) if len(zfs) == 1 else
                     _projected_note(zf) + "; some layers state their own"])


# ---- SCALE-Sim CSV -----------------------------------------------------------------------
def _norm(cell: str) -> str:
    return " ".join(cell.strip().lower().split())


def _int_cell(path: Path, row: int, layer: str, column: str, text: str) -> int:
    where = f"{path}: row {row} ({layer!r}), column {column!r}"
    try:
        v = int(text.strip())
    except ValueError:
        raise TernhwError(f"{where}: must be a positive integer, not {text.strip()!r}") from None
    if v < 1:
        raise TernhwError(f"{where}: must be a positive integer, not {v}")
    return v


def load_scalesim_csv(path: str | Path) -> Workload:
    """The workload of a SCALE-Sim topology CSV (GEMM or convolution format, from the
    header); errors name the file, the row (line number), the layer and the column."""
    path = Path(path)
    rows = [(i, [c for c in r]) for i, r in enumerate(csv.reader(_read_text(path).splitlines()),
                                                     1)]
    rows = [(i, r) for i, r in rows if any(c.strip() for c in r)]
    for _, r in rows:
        while r and not r[-1].strip():
            r.pop()
    if not rows:
        raise TernhwError(f"{path}: empty: a SCALE-Sim topology has a header and one row per "
                          "layer")
    header = [_norm(c) for c in rows[0][1]]
    col = {h: j for j, h in enumerate(header)}
    conv = any(h.startswith("ifmap") or h.startswith("filter") for h in header)
    gemm = any(h in ("m", "n", "k") for h in header)
    if conv:
        want = list(CONV_COLUMNS[:7])
        strides = ["strides"] if "strides" in col else (
            ["stride height", "stride width"] if "stride height" in col else ["strides"])
        want += ["Strides"] if strides == ["strides"] else ["Stride height", "Stride width"]
        fmt = "convolution"
    elif gemm:
        want, fmt = list(GEMM_COLUMNS), "GEMM"
    else:
        raise TernhwError(
            f"{path}: the header ({', '.join(c.strip() for c in rows[0][1])}) is neither "
            f"SCALE-Sim's GEMM format ({', '.join(GEMM_COLUMNS)}) nor its convolution format "
            f"({', '.join(CONV_COLUMNS)})")
    keys = [_norm(w) for w in want]
    if "layer" not in col and "layer name" in col:
        col["layer"] = col["layer name"]
    if "layer name" not in col and "layer" in col:
        col["layer name"] = col["layer"]
    missing = [w for w, k in zip(want, keys, strict=True) if k not in col]
    if missing:
        raise TernhwError(f"{path}: missing column(s) {', '.join(repr(m) for m in missing)} of "
                          f"SCALE-Sim's {fmt} format ({', '.join(want)})")
    if not rows[1:]:
        raise TernhwError(f"{path}: no layers after the header")
    layers, names = [], {}
    for line, r in rows[1:]:
        if len(r) <= max(col[k] for k in keys):
            raise TernhwError(f"{path}: row {line}: {len(r)} values, the header has "
                              f"{len(header)} columns")
        lname = r[col[keys[0]]].strip() or f"row{line}"
        names[lname] = names.get(lname, 0) + 1
        if names[lname] > 1:                      # SCALE-Sim allows repeats; --layer needs
            lname = f"{lname}#{names[lname]}"     # one name per layer
        v = {w: _int_cell(path, line, lname, w, r[col[k]])
             for w, k in zip(want[1:], keys[1:], strict=True)}
        where = f"{path}: row {line} ({lname!r})"
        count = 1
        if fmt == "GEMM":
            m, k, n = v["M"], v["K"], v["N"]
        else:
            h, w, fh, fw = (v["IFMAP Height"], v["IFMAP Width"], v["Filter Height"],
                            v["Filter Width"])
            sh = v.get("Strides", v.get("Stride height"))
            sw = v.get("Strides", v.get("Stride width"))
            if fh > h or fw > w:
                raise TernhwError(f"{where}: the {fh}x{fw} filter is larger than the {h}x{w} "
                                  "IFMAP")
            oh, ow = math.ceil((h - fh + sh) / sh), math.ceil((w - fw + sw) / sw)
            channels = v["Channels"]
            if "DP" in lname:                     # depthwise: one GEMM per channel
                count, channels = channels, 1
            m, k, n = oh * ow, fh * fw * channels, v["Num Filter"]
        layers.append(Layer(lname, m, k, n, count=count, seed=len(layers), where=where))
    notes = [_projected_note(DEFAULT_ZERO_FRACTION)]
    if fmt == "convolution":
        notes.insert(0, IM2COL_NOTE)
    return Workload(f"{path.stem} (SCALE-Sim {fmt}, projected)", layers, 1, str(path), notes)
