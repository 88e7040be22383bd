"""Per-action energy tables and the energy of a GEMM's events on an accelerator config."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from ..config import AcceleratorConfig
from ..errors import ConfigError
from ..model.contract import REQUANT_MULT_BITS, Events

REQUIRED = ("add", "multiply", "sram_read_64b", "dram_read_64b", "gated_lane")
#: What each action holds: table points (interpolated by width or size) or a single value.
ENTRY_KIND = {"add": "points", "multiply": "points", "sram_read_64b": "points",
              "dram_read_64b": "value", "gated_lane": "value"}


def _interp(points: dict[float, float], x: float, transform=lambda v: v) -> float:
    """Piecewise-linear interpolation (linear extrapolation past the ends) in ``transform(x)``."""
    xs = sorted(points)
    if len(xs) == 1:
        return points[xs[0]] * x / xs[0]
    tx = transform(x)
    for a, b in zip(xs, xs[1:], strict=False):
        if tx <= transform(b) or b == xs[-1]:
            ta, tb = transform(a), transform(b)
            return points[a] + (points[b] - points[a]) * (tx - ta) / (tb - ta)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class EnergyTable:
    """A validated per-action table (pJ)."""

    name: str
    citation: str
    data: dict

    def add(self, bits: int) -> float:
        """One ``bits``-wide integer addition."""
        return _interp(self.data["add"]["points"], bits)

    def multiply(self, bits_a: int, bits_b: int) -> float:
        """One ``bits_a x bits_b`` integer multiplication."""
        return _interp(self.data["multiply"]["points"], bits_a * bits_b)

    def sram_bit(self, size_bytes: int) -> float:
        """Reading (or writing) one bit of an SRAM of ``size_bytes``; arrays smaller than the
        table's smallest take its value (a conservative floor: the table has no smaller SRAM)."""
        points = self.data["sram_read_64b"]["points"]
        size = max(size_bytes, min(points))
        return _interp(points, size, math.log2) / 64

    def dram_bit(self) -> float:
        return self.data["dram_read_64b"]["value"] / 64

    def gated_lane(self) -> float:
        return self.data["gated_lane"]["value"]

    def sources(self) -> dict[str, str]:
        """The citation of each action (the table's, unless an entry names its own)."""
        return {k: self.data[k].get("citation", self.citation) for k in REQUIRED}


def load_table(spec: str | Path | None = None) -> EnergyTable:
    """The shipped Horowitz 45 nm table, or a user YAML file with the same keys."""
    if spec is None or spec == "horowitz45":
        text = resources.files("ternhw.energy").joinpath("horowitz45.yaml").read_text()
        where = "horowitz45"
    else:
        p = Path(spec)
        if p.is_dir():
            raise ConfigError(f"energy table {str(p)!r} is a directory, not a YAML file")
        if not p.is_file():
            raise ConfigError(f"energy table {str(p)!r} does not exist")
        try:
            text, where = p.read_text(encoding="utf-8"), str(p)
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"{p}: cannot read the energy table ({e})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{where}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of actions")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise ConfigError(f"{where}: missing action(s) {', '.join(map(repr, missing))}; a table "
                          f"needs {', '.join(REQUIRED)}")
    for key in REQUIRED:
        _check_entry(where, key, data[key])
    if not data.get("citation"):
        raise ConfigError(f"{where}: every table needs a 'citation'")
    return EnergyTable(data.get("name", where), data["citation"], data)


def _is_energy(v) -> bool:
    return (isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            and v >= 0)


def _check_entry(where: str, key: str, entry) -> None:
    """One action of a table: ``points: {size: pJ, ...}`` for the actions that scale with a
    width or a size, ``value: pJ`` for the others (:data:`ENTRY_KIND`).

    Each problem gets its own message naming the action, because "missing action" for an
    entry that is present but written as a bare number sends the user looking in vain.
    """
    kind = ENTRY_KIND[key]
    shape = "{size: pJ, ...}" if kind == "points" else "pJ"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: action {key!r} must be a mapping with '{kind}' ({shape}), "
                          f"not {type(entry).__name__} {entry!r}")
    if kind not in entry:
        raise ConfigError(f"{where}: action {key!r} needs '{kind}' ({shape}); it has "
                          f"{', '.join(map(repr, entry)) or 'no keys'}")
    if kind == "value":
        if not _is_energy(entry["value"]):
            raise ConfigError(f"{where}: action {key!r}: value {entry['value']!r} is not a "
                              "non-negative number of pJ")
        return
    points = entry["points"]
    if not isinstance(points, dict) or not points:
        raise ConfigError(f"{where}: action {key!r}: 'points' must be a non-empty mapping "
                          f"{shape}, not {points!r}")
    for size, v in points.items():
        if not _is_energy(size) or size <= 0:
            raise ConfigError(f"{where}: action {key!r}: point size {size!r} must be a "
                              "positive number")
        if not _is_energy(v):
            raise ConfigError(f"{where}: action {key!r}: point {size}: {v!r} is not a "
                              "non-negative number of pJ")


@dataclass
class EnergyBreakdown:
    """Energy of a workload in pJ, by component."""

    components: dict[str, float] = field(default_factory=dict)
    macs: int = 0

    @property
    def total(self) -> float:
        return sum(self.components.values())

    @property
    def per_mac(self) -> float:
        return self.total / self.macs if self.macs else 0.0

    def __add__(self, other: EnergyBreakdown) -> EnergyBreakdown:
        keys = dict.fromkeys([*self.components, *other.components])
        return EnergyBreakdown({k: self.components.get(k, 0.0) + other.components.get(k, 0.0)
                                for k in keys}, self.macs + other.macs)

    def to_dict(self) -> dict:
        return {"total_pj": self.total, "per_mac_pj": self.per_mac, "macs": self.macs,
                "components_pj": dict(self.components)}


def energy_of(cfg: AcceleratorConfig, ev: Events, macs: int,
              table: EnergyTable) -> EnergyBreakdown:
    """Σ event count x per-action energy, grouped by component.

    array adds      non-zero ternary lanes feed the adder tree (one ``tree_bits`` add each; a
                    -1 lane also negates, one ``act_bits + 1`` add); int8 lanes multiply
                    (``act_bits x 8``) and add
    zero-skips      gated lanes (the table's ``gated_lane``)
    accumulators    one ``acc_bits`` add per accumulator update
    weight buffer   bits written and read, at the weight buffer's size
    activation buf. bits written and read, at the activation buffer's size
    output path     requantization (``acc_bits x 16`` multiply per output)
    DRAM            weights and activations in, outputs out
    """
    wbuf_bytes = cfg.weight_buffer_depth * cfg.weight_word_bits // 8
    abuf_bytes = cfg.act_buffer_depth * cfg.act_word_bits // 8
    tree = table.add(cfg.tree_bits)
    if cfg.is_ternary:
        array = (ev.lane_add + ev.lane_sub) * tree + ev.lane_sub * table.add(cfg.act_bits + 1)
    else:
        array = ev.lane_mul * (table.multiply(cfg.act_bits, 8) + tree)
    comps = {
        "array adds": array,
        "zero-skips": ev.lane_skip * table.gated_lane(),
        "accumulators": ev.acc_updates * table.add(cfg.acc_bits),
        "weight buffer": (ev.weight_bits_loaded + ev.weight_bits_read) * table.sram_bit(
            wbuf_bytes),
        "activation buffer": (ev.act_bits_loaded + ev.act_bits_read) * table.sram_bit(
            abuf_bytes),
        "output path": ev.requant_ops * table.multiply(cfg.acc_bits, REQUANT_MULT_BITS),
        "DRAM": (ev.weight_bits_loaded + ev.act_bits_loaded + ev.output_bits_written)
        * table.dram_bit(),
    }
    return EnergyBreakdown(comps, macs)
