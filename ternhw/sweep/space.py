"""A design space in a TOML file, and its expansion into points.

Format (``ternhw/sweeps/example.toml`` is a complete example)::

    [space]
    name = "example"            # label of the sweep
    base = "default"            # shipped config name or .toml path: the value of every field
                                # that is not an axis (default: "default")
    max_points = 1000000        # refuse larger spaces (a typo like step = 1 over 1..65536)

    [axes]                      # any AcceleratorConfig field except name
    rows = [8, 16, 32]                      # a list of values
    cols = {min = 4, max = 64, factor = 2}  # a geometric range: 4, 8, 16, 32, 64
    act_buffer_depth = {min = 256, max = 1024, step = 256}   # an arithmetic range (inclusive)
    weight_format = ["2bit", "base3", "int8"]
    clock_mhz = 100.0                       # a scalar: one value

    [constraints]               # max_<metric> / min_<metric> for any numeric result metric
    max_gates = 400000
    max_on_chip_kb = 512
    min_tokens_per_s = 100

When ``weight_format`` is an axis and ``weight_bits`` is not, ``weight_bits`` follows it (8 for
``int8``, 1.58 for the ternary formats), so one space can hold ternary and int8 designs.

A value that is wrong on its own (``rows = 0``, ``overflow = "clip"``, a string for a number)
is an error in the file, raised as one :class:`~ternhw.errors.ConfigError` naming the file and
the field. A *combination* that no accelerator can have (``acc_bits`` below ``act_bits + 1``,
more requantizers than rows) is an invalid point: it stays in the results with its reason.
"""

from __future__ import annotations

import itertools
import math
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ..config import TERNARY_WEIGHT_BITS, AcceleratorConfig, load_config
from ..errors import ConfigError

DEFAULT_MAX_POINTS = 1_000_000
#: Constraint keys are ``max_``/``min_`` followed by one of these result metrics.
CONSTRAINT_METRICS = ("gates", "on_chip_kb", "tokens_per_s", "tokens_per_s_roofline",
                      "energy_per_token_uj", "energy_per_mac_pj", "utilization", "cycles",
                      "dram_bytes", "weight_reload_factor")
#: Constraints the issue names that this slice cannot evaluate yet, with the reason.
NOT_YET = {
    "max_luts": "the LUT cost model is not calibrated in this slice (generic gates only); "
                "use max_gates",
    "min_fmax_mhz": "Fmax is not calibrated in this slice (needs nextpnr place and route)",
    "target_part": "FPGA part targets are not supported in this slice; use max_gates",
}
AXIS_FIELDS = tuple(f.name for f in fields(AcceleratorConfig) if f.name != "name")


@dataclass(frozen=True)
class Constraint:
    """``metric <= bound`` (``kind == "max"``) or ``metric >= bound`` (``"min"``)."""

    key: str
    metric: str
    kind: str
    bound: float

    def violation(self, metrics: dict) -> str | None:
        v = metrics[self.metric]
        bad = v > self.bound if self.kind == "max" else v < self.bound
        if not bad:
            return None
        op = ">" if self.kind == "max" else "<"
        return f"{self.metric} {v:.6g} {op} {self.key} = {self.bound:g}"


@dataclass(frozen=True)
class Space:
    """A parsed design space."""

    name: str
    source: str
    base: AcceleratorConfig
    axes: dict[str, list]
    constraints: tuple[Constraint, ...]
    max_points: int

    @property
    def size(self) -> int:
        return math.prod(len(v) for v in self.axes.values())

    def points(self) -> list[dict[str, Any]]:
        """Every combination of axis values, in a fixed order (the last axis varies fastest),
        as dicts of the changed fields."""
        names = list(self.axes)
        return [dict(zip(names, combo, strict=True))
                for combo in itertools.product(*(self.axes[n] for n in names))]

    def config_of(self, changes: dict[str, Any], index: int) -> AcceleratorConfig:
        """The point's config (raises :class:`ConfigError` for an invalid combination)."""
        changes = dict(changes)
        if "weight_format" in changes and "weight_bits" not in self.axes:
            changes["weight_bits"] = 8 if changes["weight_format"] == "int8" \
                else TERNARY_WEIGHT_BITS
        return self.base.replace(name=f"{self.name}_p{index}", **changes)


def _err(where: str, msg: str) -> ConfigError:
    return ConfigError(f"{where}: {msg}")


def _expand_range(where: str, field: str, spec: dict) -> list:
    known = {"min", "max", "step", "factor"}
    if set(spec) - known:
        raise _err(where, f"[axes] {field}: unknown range key "
                          f"{sorted(set(spec) - known)[0]!r}; a range has min, max and step "
                          "or factor")
    if "min" not in spec or "max" not in spec or ("step" in spec) == ("factor" in spec):
        raise _err(where, f"[axes] {field}: a range needs min, max and exactly one of step "
                          "(arithmetic) or factor (geometric)")
    lo, hi = spec["min"], spec["max"]
    for k in spec:
        v = spec[k]
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise _err(where, f"[axes] {field}: range {k} must be a number, not {v!r}")
    if hi < lo:
        raise _err(where, f"[axes] {field}: range max {hi!r} is below min {lo!r}")
    values = []
    is_int = all(isinstance(spec[k], int) for k in spec)
    if "step" in spec:
        step = spec["step"]
        if step <= 0:
            raise _err(where, f"[axes] {field}: range step must be positive, not {step!r}")
        n = math.floor((hi - lo) / step + 1e-9) + 1
        if n > DEFAULT_MAX_POINTS:
            raise _err(where, f"[axes] {field}: the range has {n} values")
        values = [lo + i * step for i in range(n)]
    else:
        factor = spec["factor"]
        if factor <= 1 or lo <= 0:
            raise _err(where, f"[axes] {field}: a geometric range needs factor > 1 and "
                              f"min > 0, not factor {factor!r}, min {lo!r}")
        v = lo
        while v <= hi * (1 + 1e-9):
            values.append(v)
            v = v * factor
    return [int(round(v)) if is_int else float(v) for v in values]


def _check_value(where: str, field: str, value, base: AcceleratorConfig) -> None:
    """Raise unless ``value`` is a valid ``field`` on its own: try it with the most permissive
    companions, so only an error of the value itself is reported here."""
    relax: dict[str, Any] = {field: value}
    if field == "requant_lanes":
        relax["rows"] = 256
    if field == "act_bits":
        relax["acc_bits"] = 32
    if field == "acc_bits":
        relax["act_bits"] = 2
    if field == "weight_format":
        relax["weight_bits"] = 8 if value == "int8" else TERNARY_WEIGHT_BITS
    if field == "weight_bits":
        relax["weight_format"] = "int8" if value == 8 else "2bit"
    try:
        base.replace(**relax)
    except (ConfigError, TypeError) as e:
        raise _err(where, f"[axes] {field}: {e}") from None


def _parse_axes(where: str, table, base: AcceleratorConfig) -> dict[str, list]:
    if not isinstance(table, dict) or not table:
        raise _err(where, "[axes] must be a table with at least one field")
    axes = {}
    for name, spec in table.items():
        if name not in AXIS_FIELDS:
            raise _err(where, f"[axes] unknown field {name!r}; known fields: "
                              f"{', '.join(AXIS_FIELDS)}")
        if isinstance(spec, dict):
            values = _expand_range(where, name, spec)
        elif isinstance(spec, list):
            values = list(spec)
        else:
            values = [spec]
        if not values:
            raise _err(where, f"[axes] {name}: the list of values is empty")
        if len(set(map(repr, values))) != len(values):
            raise _err(where, f"[axes] {name}: a value is listed twice")
        for v in values:
            _check_value(where, name, v, base)
        axes[name] = values
    return axes


def _parse_constraints(where: str, table) -> tuple[Constraint, ...]:
    if table is None:
        return ()
    if not isinstance(table, dict):
        raise _err(where, "[constraints] must be a table")
    out = []
    for key, bound in table.items():
        if key in NOT_YET:
            raise _err(where, f"[constraints] {key}: {NOT_YET[key]}")
        kind, _, metric = key.partition("_")
        if kind not in ("max", "min") or metric not in CONSTRAINT_METRICS:
            raise _err(where, f"[constraints] unknown constraint {key!r}; use max_<metric> or "
                              f"min_<metric> with a metric in {', '.join(CONSTRAINT_METRICS)}")
        if isinstance(bound, bool) or not isinstance(bound, int | float) \
                or not math.isfinite(bound):
            raise _err(where, f"[constraints] {key} must be a number, not {bound!r}")
        out.append(Constraint(key, metric, kind, float(bound)))
    return tuple(out)


def parse_space(data: dict, *, source: str = "<space>") -> Space:
    """Validate a parsed space document (see the module docstring)."""
    unknown = sorted(set(data) - {"space", "axes", "constraints"})
    if unknown:
        raise _err(source, f"unknown table [{unknown[0]}]; a space has [space], [axes] and "
                           "[constraints]")
    meta = data.get("space", {})
    if not isinstance(meta, dict):
        raise _err(source, "[space] must be a table")
    bad = sorted(set(meta) - {"name", "base", "max_points"})
    if bad:
        raise _err(source, f"[space] unknown key {bad[0]!r}; known keys: name, base, "
                           "max_points")
    name = meta.get("name", Path(source).stem if source.endswith(".toml") else "sweep")
    if not isinstance(name, str) or not name:
        raise _err(source, f"[space] name must be a non-empty string, not {name!r}")
    base_spec = meta.get("base", "default")
    if not isinstance(base_spec, str):
        raise _err(source, f"[space] base must be a config name or path, not {base_spec!r}")
    if base_spec.endswith(".toml") and not Path(base_spec).is_absolute() \
            and source.endswith(".toml"):
        base_spec = str(Path(source).parent / base_spec)
    try:
        base = load_config(base_spec)
    except ConfigError as e:
        raise _err(source, f"[space] base: {e}") from None
    max_points = meta.get("max_points", DEFAULT_MAX_POINTS)
    if isinstance(max_points, bool) or not isinstance(max_points, int) or max_points < 1:
        raise _err(source, f"[space] max_points must be a positive integer, not "
                           f"{max_points!r}")
    if "axes" not in data:
        raise _err(source, "missing [axes]: a space needs at least one axis")
    axes = _parse_axes(source, data["axes"], base)
    space = Space(name, source, base, axes, _parse_constraints(source, data.get("constraints")),
                  max_points)
    if space.size > max_points:
        raise _err(source, f"the space has {space.size:,} points, more than max_points = "
                           f"{max_points:,}; narrow an axis or raise [space] max_points")
    return space


def load_space(path: str | Path) -> Space:
    """Read and validate a space TOML file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"space file {str(path)!r} does not exist")
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    return parse_space(data, source=str(path))
