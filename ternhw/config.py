"""``AcceleratorConfig``: the one object that feeds the model, the RTL generator, the
co-simulation and the reports, so that none of them can drift from the others.

A config is loaded from a TOML file (flat ``key = value`` pairs, optionally under an
``[accelerator]`` table) or by the name of a config shipped in ``ternhw/configs``::

    >>> cfg = load_config("default")
    >>> cfg.rows, cfg.cols, cfg.is_ternary
    (16, 16, True)

Every field is validated on construction; an invalid value raises :class:`ConfigError` naming
the field, the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import tomllib
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ConfigError

#: Ternary weights carry log2(3) bits of information; configs spell it 1.58.
TERNARY_WEIGHT_BITS = 1.58
OVERFLOW_MODES = ("wrap", "saturate")
#: Logic nodes the energy model can scale to (Stillmaker & Baas 2017 cover 7-130 nm).
LOGIC_NODE_RANGE = (7.0, 130.0)
VDD_RANGE = (0.3, 1.5)
TERNARY_FORMATS = ("2bit", "base3")
INT8_FORMATS = ("int8",)


@dataclass(frozen=True)
class AcceleratorConfig:
    """A ternary (or int8-baseline) MAC-array accelerator.

    The array has ``rows`` x ``cols`` lanes. Each cycle it takes ``cols`` activations of one
    token (a slice of the K dimension) and ``rows`` x ``cols`` weights, and adds ``rows`` partial
    dot products, each the exact sum of ``cols`` products formed in a balanced adder tree, into
    ``rows`` accumulators. ``rows`` therefore tiles the output (N) dimension and ``cols`` the
    reduction (K) dimension; see ``docs/semantics.md`` for the bit-exact rules.

    Attributes
    ----------
    name : str
        Label used in reports and generated file names.
    rows, cols : int
        Array size: output channels and reduction lanes computed per cycle (1-256 each).
    act_bits : int
        Width of the signed (two's complement) activations, 2-16.
    acc_bits : int
        Width of the signed accumulators, 8-32.
    overflow : {"wrap", "saturate"}
        What an accumulator does when an update leaves its range.
    weight_format : {"2bit", "base3", "int8"}
        How weights are stored in the weight buffer: 2-bit codes (4 per byte), base-3 (5 trits
        per byte, decoded in hardware), or 8-bit integers for the baseline.
    weight_bits : float
        1.58 for ternary weights, 8 for the int8 baseline (which has real multipliers).
    weight_buffer_depth, act_buffer_depth : int
        On-chip buffer depths in words: a weight word holds the ``rows x cols`` weights of one
        array step, an activation word ``cols`` activations of one token. The weight buffer is
        a ring: the next N-tile's words stream in while the current tile computes, and a matrix
        of at most ``weight_buffer_depth`` words can stay resident across commands.
    requant_lanes : int
        Requantizers shared by the ``rows`` outputs of a finished token (1 to ``rows``): a
        token's results take ``ceil(rows / requant_lanes)`` clocks to requantize, which is
        hidden whenever a token takes at least as many clocks (``ceil(K / cols)``).
    clock_mhz : float
        Target clock frequency in MHz, used until synthesis reports a measured Fmax.
    dram_bandwidth_gbs : float
        Off-chip bandwidth in GB/s for the roofline.
    dram_technology : str
        Off-chip memory technology the energy model prices (pJ per bit): one of the entries of
        ``ternhw/energy/dram.yaml`` (``LPDDR4``, ``LPDDR5``, ``DDR4``, ``HBM2``,
        ``DDR3-horowitz``). It does not change ``dram_bandwidth_gbs``.
    logic_node_nm : float
        Logic process node in nm (7-130) at which energies are priced; the cited tables are
        at 45 nm and other nodes are reached by Stillmaker & Baas's scaling equations.
    vdd : float or None
        Logic supply in volts (0.3-1.5) for that scaling; None (or absent from the TOML): the
        node's nominal supply.
    """

    name: str = "custom"
    rows: int = 16
    cols: int = 16
    act_bits: int = 8
    acc_bits: int = 24
    overflow: str = "saturate"
    weight_format: str = "2bit"
    weight_bits: float = TERNARY_WEIGHT_BITS
    weight_buffer_depth: int = 1024
    act_buffer_depth: int = 1024
    requant_lanes: int = 1
    clock_mhz: float = 100.0
    dram_bandwidth_gbs: float = 12.8
    dram_technology: str = "LPDDR4"
    logic_node_nm: float = 45.0
    vdd: float | None = None

    def __post_init__(self) -> None:
        _check_str(self, "name")
        for name, lo, hi in (
            ("rows", 1, 256),
            ("cols", 1, 256),
            ("act_bits", 2, 16),
            ("acc_bits", 8, 32),
            ("weight_buffer_depth", 1, 1 << 20),
            ("act_buffer_depth", 1, 1 << 20),
        ):
            _check_int(self, name, lo, hi)
        _check_int(self, "requant_lanes", 1, self.rows)
        _check_choice(self, "overflow", OVERFLOW_MODES)
        _check_number(self, "clock_mhz", 0.0, 5000.0)
        _check_number(self, "dram_bandwidth_gbs", 0.0, 1e5)
        _check_choice(self, "dram_technology", dram_technology_names())
        _check_number(self, "logic_node_nm", LOGIC_NODE_RANGE[0], LOGIC_NODE_RANGE[1],
                      closed=True)
        if self.vdd is not None:
            _check_number(self, "vdd", VDD_RANGE[0], VDD_RANGE[1], closed=True,
                          hint=" (or leave it out for the node's nominal supply)")
        wb = self.weight_bits
        if isinstance(wb, bool) or not isinstance(wb, int | float) or wb not in (
            TERNARY_WEIGHT_BITS,
            8,
        ):
            raise ConfigError(
                f"weight_bits must be {TERNARY_WEIGHT_BITS} (ternary) or 8 (int8 baseline), "
                f"not {wb!r}"
            )
        allowed = TERNARY_FORMATS if self.is_ternary else INT8_FORMATS
        _check_choice(self, "weight_format", allowed,
                      hint=f" for weight_bits = {wb}")
        if self.acc_bits < self.act_bits + 1:
            raise ConfigError(
                f"acc_bits must be at least act_bits + 1 = {self.act_bits + 1} so one product "
                f"fits the accumulator, not {self.acc_bits}"
            )

    # -- derived values -------------------------------------------------------------------
    @property
    def is_ternary(self) -> bool:
        return self.weight_bits == TERNARY_WEIGHT_BITS

    @property
    def lanes(self) -> int:
        """Number of MAC lanes, ``rows * cols``."""
        return self.rows * self.cols

    @property
    def weight_code_bits(self) -> int:
        """Bits per weight in the weight buffer word (base-3 packs 5 trits into 8 bits)."""
        return {"2bit": 2, "int8": 8}.get(self.weight_format, 8)

    @property
    def weight_word_bits(self) -> int:
        """Bits of one weight-buffer word, the ``rows x cols`` weights of one array step
        (base-3 packs the word's trits 5 to a byte)."""
        n = self.rows * self.cols
        if self.weight_format == "base3":
            return 8 * -(-n // 5)
        return n * self.weight_code_bits

    @property
    def requant_groups(self) -> int:
        """Clocks the shared requantizers take for one token's ``rows`` results."""
        return -(-self.rows // self.requant_lanes)

    @property
    def act_word_bits(self) -> int:
        """Bits of one activation-buffer word: ``cols`` activations."""
        return self.cols * self.act_bits

    @property
    def product_bits(self) -> int:
        """Signed width of one lane's product.

        A ternary product is +-a, and -(-2**(act_bits-1)) needs one bit more than ``a``; an
        int8 x ``act_bits`` product needs ``act_bits + 8`` bits.
        """
        return self.act_bits + (1 if self.is_ternary else 8)

    @property
    def tree_bits(self) -> int:
        """Signed width at which a ``cols``-term adder tree sum is exact."""
        return self.product_bits + math.ceil(math.log2(self.cols))

    @property
    def acc_min(self) -> int:
        return -(1 << (self.acc_bits - 1))

    @property
    def acc_max(self) -> int:
        return (1 << (self.acc_bits - 1)) - 1

    @property
    def act_min(self) -> int:
        return -(1 << (self.act_bits - 1))

    @property
    def act_max(self) -> int:
        return (1 << (self.act_bits - 1)) - 1

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> AcceleratorConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def _check_str(cfg: AcceleratorConfig, name: str) -> None:
    value = getattr(cfg, name)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{name} must be a non-empty string, not {value!r}")


def _check_int(cfg: AcceleratorConfig, name: str, lo: int, hi: int) -> None:
    value = getattr(cfg, name)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ConfigError(f"{name} must be an integer in [{lo}, {hi}], not {value!r}")


def _check_number(cfg: AcceleratorConfig, name: str, lo: float, hi: float, *,
                  closed: bool = False, hint: str = "") -> None:
    value = getattr(cfg, name)
    bad = (isinstance(value, bool) or not isinstance(value, int | float)
           or not math.isfinite(value))
    if bad or not (lo <= value <= hi if closed else lo < value <= hi):
        span = f"[{lo:g}, {hi:g}]" if closed else f"({lo:g}, {hi:g}]"
        raise ConfigError(f"{name} must be a number in {span}{hint}, not {value!r}")


@functools.cache
def dram_technology_names() -> tuple[str, ...]:
    """The off-chip technologies ``dram_technology`` accepts: the entries of
    ``ternhw/energy/dram.yaml`` (read here without importing the energy package)."""
    import yaml

    text = resources.files("ternhw").joinpath("energy", "dram.yaml").read_text()
    return tuple(yaml.safe_load(text)["technologies"])


def _check_choice(cfg: AcceleratorConfig, name: str, allowed: tuple[str, ...],
                  hint: str = "") -> None:
    value = getattr(cfg, name)
    if value not in allowed:
        choices = " or ".join(repr(a) for a in allowed)
        raise ConfigError(f"{name} must be {choices}{hint}, not {value!r}")


def shipped_config_names() -> list[str]:
    """Names of the configs that ship inside the package (``default``, ``int8-baseline``, ...)."""
    files = resources.files("ternhw").joinpath("configs").iterdir()
    return sorted(f.name[:-5] for f in files if f.name.endswith(".toml"))


def config_from_dict(data: dict[str, Any], *, source: str = "<dict>") -> AcceleratorConfig:
    """Build a config from a mapping, refusing unknown keys by name."""
    if "accelerator" in data and isinstance(data["accelerator"], dict):
        data = data["accelerator"]
    known = {f.name for f in fields(AcceleratorConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"{source}: unknown field {unknown[0]!r}; known fields: {', '.join(sorted(known))}"
        )
    try:
        return AcceleratorConfig(**data)
    except ConfigError as e:
        raise ConfigError(f"{source}: {e}") from None


def load_config(spec: str | Path) -> AcceleratorConfig:
    """Load a config from a TOML path or a shipped config name."""
    path = Path(spec)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise ConfigError(f"config file {str(path)!r} does not exist")
        text = path.read_bytes()
        source = str(path)
    else:
        names = shipped_config_names()
        if str(spec) not in names:
            raise ConfigError(
                f"unknown config {str(spec)!r}: give a .toml path or one of {', '.join(names)}"
            )
        text = resources.files("ternhw").joinpath("configs", f"{spec}.toml").read_bytes()
        source = f"config {spec!r}"
    try:
        data = tomllib.loads(text.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{source}: not valid TOML: {e}") from None
    if isinstance(data.get("accelerator"), dict):
        data = data["accelerator"]
    data.setdefault("name", path.stem if source == str(path) else str(spec))
    return config_from_dict(data, source=source)
