"""Resolve a ``--workload`` argument into a :class:`~ternhw.workload.Workload`.

``SPEC`` is ``digits``, ``minilm`` (the shipped distilled ternary weights), ``minilm-ptq`` (the
float checkpoint ternarized post-training), ``bitnet-2b`` (decode) or ``bitnet-2b-prefill``, a model
file (``.safetensors`` / ``.npz`` / ``.gguf``: its linear layers as GEMMs), a shape list
(``.toml``, or a SCALE-Sim topology ``.csv``), or the name of a shape list shipped in
``ternhw/workloads/`` (``ternhw.workload.shipped_workloads()``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import TernhwError
from .builtin import bitnet_2b
from .layer import DEFAULT_ZERO_FRACTION, Workload
from .models import model_workload
from .shapes import load_scalesim_csv, load_toml

BUILTIN_WORKLOADS = ("digits", "minilm", "minilm-ptq", "bitnet-2b", "bitnet-2b-prefill")
SHAPE_SUFFIXES = (".toml", ".csv")


def shipped_workloads() -> dict[str, Path]:
    """``{name: path}`` of the example shape lists in ``ternhw/workloads/``."""
    d = resources.files("ternhw") / "workloads"
    if not d.is_dir():
        return {}
    return {Path(p.name).stem: Path(str(p)) for p in sorted(d.iterdir(), key=lambda p: p.name)
            if Path(p.name).suffix in SHAPE_SUFFIXES}


def load_shapes(path: str | Path) -> Workload:
    """A ``.toml`` or SCALE-Sim ``.csv`` shape list."""
    path = Path(path)
    if path.suffix.lower() == ".toml":
        return load_toml(path)
    if path.suffix.lower() == ".csv":
        return load_scalesim_csv(path)
    raise TernhwError(f"{path}: a shape list is a .toml or a SCALE-Sim topology .csv file")


def load_workload(spec: str, *, seq_len: int = 128, batch: int = 1,
                  zero_fraction: float = DEFAULT_ZERO_FRACTION) -> Workload:
    """The workload ``spec`` names (see the module docstring). ``seq_len`` and ``batch`` set
    ``M`` of model workloads; shape lists state their own ``M``."""
    if spec in ("bitnet-2b", "bitnet-2b-prefill"):
        return bitnet_2b(seq_len, batch, prefill=spec.endswith("prefill"),
                         zero_fraction=zero_fraction)
    if Path(spec).suffix.lower() in SHAPE_SUFFIXES:
        return load_shapes(spec)
    shipped = shipped_workloads()
    if spec in shipped and not Path(spec).exists():
        return load_shapes(shipped[spec])
    from ..weights import BUILTIN_SOURCES, load_source

    if not Path(spec).suffix and not Path(spec).exists() and spec not in BUILTIN_SOURCES:
        raise TernhwError(
            f"unknown workload {spec!r}: give {', '.join(BUILTIN_WORKLOADS)}, a shipped shape "
            f"list ({', '.join(shipped) or 'none installed'}), a .toml or SCALE-Sim .csv shape "
            "list, or a .safetensors, .npz or .gguf model")
    return model_workload(load_source(spec), seq_len=seq_len, batch=batch)
