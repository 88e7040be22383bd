"""The energy of a design point, priced by the report's energy model at sweep speed.

A point's energy is exactly ``ternhw.energy.price_gemm`` of its layers (every action of every
component, cited per action; ``tests/test_sweep.py`` holds the sweep equal to the report's
``analyse``). Two things make that cheap enough for tens of thousands of points:

* **Per-action costs are computed once per (hardware, technology, clock)** (:class:`PriceList`,
  memoized): the components of ``ternhw.energy.components_for`` and their ``actions()``; a point
  then only forms its action counts (``comp.counts``) and multiplies. The components are built
  on a :class:`FastTechnology`: each primitive energy (an add of a width, an SRAM of a shape,
  ...) is computed once per technology by :class:`~ternhw.energy.tech.Technology` itself, and
  the components' sums and multiples of them are done on the picojoules alone, in the same
  order as on :class:`~ternhw.energy.tech.Cost` (so the same floats), without building the
  source and note strings thousands of times per design (a 64x64 array's popcount tree alone
  has 4,095 adders).
* **Flip-flops by component without elaborating the design.** The clock-tree, controller,
  requantizer-register and leakage energies are charged per flip-flop, which the energy model
  counts on the elaborated Amaranth design (``ternhw.energy.components.flip_flops``): 0.1 s for
  a 4x4 array, 20 s for 64x64. :func:`flip_flop_counts` gives the same counts in closed form from
  the widths of ``ternhw/hdl`` (``tests/test_sweep.py`` holds them equal to the elaborated counts
  on a grid of configs), and the price list is built with it in place of the elaboration.

The action counts are linear in the events and the schedule (idle buffer reads
``cycles - steps`` and pass-through requantizer slots ``outputs - requant_ops`` are never
negative, and the popcount's ``steps x skipped / lanes`` is ``skipped / (rows x cols)`` since
every step has ``rows x cols`` lanes), so a point's layer groups are summed into one
:class:`~ternhw.energy.components.Activity` and priced once.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from dataclasses import fields, replace
from functools import lru_cache

from ..config import AcceleratorConfig
from ..energy import components as _components
from ..energy.components import Activity, components_for, group_bits
from ..energy.tech import Cost, Sram, Technology
from ..hdl.decoder import WeightCodeCheck
from ..hdl.mac_array import GROUP as MAC_GROUP
from ..hdl.requant import product_bits

#: Fields the generated hardware depends on (everything but the clock and the technology).
HARDWARE_FIELDS = ("rows", "cols", "act_bits", "acc_bits", "overflow", "weight_format",
                   "weight_bits", "weight_buffer_depth", "act_buffer_depth", "requant_lanes")
#: Fields that choose the technology the energies are priced in.
TECH_FIELDS = ("logic_node_nm", "dram_technology", "vdd")

# widths of ternhw/hdl that the counts below use
_STATUS_COUNTERS, _COUNTER_BITS = 6, 48      # accelerator.py status_signature
_REQUANT_STAGES = 4                          # output_stage.py rq_select .. rq_shifted
_PRODUCT_SPLIT = 4                           # requant.py PRODUCT_SPLIT
_CONTROLLER_FIXED = 367                      # controller.py fixed-width registers + the top
#                                              level's command latch and pipeline flags (and
#                                              the unnamed stall increment, which the energy
#                                              rules' "$signal" prefix gives the controller)


def _rw(n: int) -> int:
    """Bits of an Amaranth ``Signal(range(n))``."""
    return (n - 1).bit_length()


def flip_flop_counts(cfg: AcceleratorConfig) -> dict[str, int]:
    """Flip-flop bits of ``TernaryAccelerator(cfg)`` by energy component, in closed form: the
    same dict as :func:`ternhw.energy.components.flip_flops` (which elaborates the design)."""
    R, C, A, B = cfg.rows, cfg.cols, cfg.act_bits, cfg.acc_bits
    L, G = cfg.requant_lanes, cfg.requant_groups
    AD, WD = cfg.act_buffer_depth, cfg.weight_buffer_depth
    w = product_bits(B)
    groups = -(-C // MAC_GROUP)
    stage = 2 + _rw(G) + R + L * B                 # valid, last, group, ovf, acc per lane
    out = {
        # loaders' and issue stage's counters and pointers (range(depth), range(depth + 1),
        # range(depth + 2)) beside the fixed 16-bit dimensions and one-bit flags
        "controller": _CONTROLLER_FIXED + 2 * _rw(AD + 1) + 3 * _rw(WD + 1) + 2 * _rw(WD)
        + _rw(WD + 2),
        # sd_weights (2-bit trits or int8 per lane), sd_acts, sp_sums (the adder trees' group
        # sums), sp_nonzero, s2_sums, s2_nonzero
        "array pipeline registers": R * C * (2 if cfg.is_ternary else 8) + C * A
        + R * (groups * group_bits(cfg) + 1) + R * (cfg.tree_bits + 1),
        # six 48-bit counters, sd_col_live, sd_row_live, sp_skips, s3_skips, event_bits,
        # events_r, hold_inc
        "status counters": _STATUS_COUNTERS * _COUNTER_BITS + C + R + R * (C + 1).bit_length()
        + _rw(R * C + 1) + R + _rw(R + 1) + 1,
        # two banks, the loaded word, its write flags, the selected bank (s2_bias)
        "bias banks": 4 * R * B + 2,
        # the invalid-code check's partial ORs and its flag (ternary formats only)
        "weight code check": (WeightCodeCheck.register_bits(cfg.weight_format, cfg.lanes)
                              if cfg.is_ternary else 0),
        "accumulators": R * (B + 1),                 # values and overflow flags
        # four pipeline stages, then per lane the partials, product and shifted value + round
        # bit, and the mask / half / half_neg rounding constants
        "requantizer": _REQUANT_STAGES * stage + L * ((_PRODUCT_SPLIT + 2) * w + 1) + 3 * w,
        "output snapshot": R * B + R + 1 + _rw(G),   # snap, snap_ovf, busy, group
        "output register": 2 * (R * B + 2 * R + 1),  # word + flags + full, o_res payload + valid
    }
    return {k: v for k, v in out.items() if v}


def hardware_key(cfg: AcceleratorConfig) -> tuple:
    return tuple(getattr(cfg, f) for f in HARDWARE_FIELDS)


@lru_cache(maxsize=64)
def technology(node_nm: float, dram: str, vdd: float | None) -> FastTechnology:
    """The (memoized) technology of a config's ``logic_node_nm``, ``dram_technology``, ``vdd``
    (what ``ternhw.energy.technology_of`` builds), as a :class:`FastTechnology`."""
    return FastTechnology(Technology(node_nm=node_nm, dram=dram, vdd=vdd))


def technology_of(cfg: AcceleratorConfig) -> FastTechnology:
    return technology(cfg.logic_node_nm, cfg.dram_technology, cfg.vdd)


class FastCost:
    """A :class:`~ternhw.energy.tech.Cost` reduced to its picojoules: ``scaled`` and ``+``
    do the same arithmetic on ``pj`` and drop the provenance (the report's ``price_gemm``
    keeps it; the sweep only needs totals)."""

    __slots__ = ("pj",)
    source = ""
    flags: tuple[str, ...] = ()
    note = ""

    def __init__(self, pj: float):
        self.pj = pj

    def scaled(self, k: float, note: str = "", flag: str | None = None) -> FastCost:
        return FastCost(self.pj * k)

    def __add__(self, other) -> FastCost:
        return FastCost(self.pj + other.pj)


def _fast(v):
    if isinstance(v, Cost):
        return FastCost(v.pj)
    if isinstance(v, Sram):
        return replace(v, read=_fast(v.read), write=_fast(v.write), leak=_fast(v.leak))
    if isinstance(v, tuple):
        return tuple(_fast(x) for x in v)
    return v


class FastTechnology:
    """A :class:`~ternhw.energy.tech.Technology` whose methods are memoized per argument and
    return :class:`FastCost` (attributes pass through)."""

    def __init__(self, tech: Technology):
        self._tech = tech
        self._memo: dict[tuple, object] = {}

    def __getattr__(self, name: str):
        attr = getattr(self._tech, name)
        if not callable(attr):
            return attr
        memo = self._memo

        def call(*args):
            key = (name, *args)
            hit = memo.get(key)
            if hit is None:
                hit = memo[key] = _fast(attr(*args))
            return hit
        self.__dict__[name] = call               # found directly from now on
        return call


_PATCH = threading.Lock()


class PriceList:
    """The components of ``cfg`` in ``tech`` at ``clock_mhz`` with their per-action costs
    computed once; :meth:`total_pj` prices an activity. Built with :func:`flip_flop_counts`
    in place of the design's elaboration (see the module docstring). ``like``: the price list
    of the same hardware and technology at another clock, whose components are reused except
    those that depend on the clock (the ones that carry a ``clock_mhz``: leakage per cycle)."""

    def __init__(self, cfg: AcceleratorConfig, tech: FastTechnology, clock_mhz: float,
                 like: PriceList | None = None):
        counts = flip_flop_counts(cfg)
        with _PATCH:
            saved = _components.flip_flops
            _components.flip_flops = lambda c: counts if c is cfg else saved(c)
            try:
                if like is None:
                    comps = components_for(cfg, tech, clock_mhz)
                else:
                    comps = [_at_clock(c, clock_mhz) for c, _ in like.items]
                self.items = []
                for comp in comps:
                    if "actions" in vars(comp):          # reused from ``like`` as it is
                        costs = vars(comp)["actions"]()
                    else:
                        costs = comp.actions()
                        # counts() of some components looks its action names up again: give
                        # it the costs just computed (no second pricing, no elaboration)
                        comp.actions = (lambda c=costs: c)
                    self.items.append((comp, [(a, c.pj) for a, c in costs.items()]))
            finally:
                _components.flip_flops = saved

    def total_pj(self, act: Activity) -> float:
        total = 0.0
        for comp, costs in self.items:
            n = comp.counts(act)
            for action, pj in costs:
                total += float(n.get(action, 0)) * pj
        return total


def _at_clock(comp, clock_mhz: float):
    if not hasattr(comp, "clock_mhz") or comp.clock_mhz == clock_mhz:
        return comp
    c = copy.copy(comp)
    vars(c).pop("actions", None)
    c.clock_mhz = clock_mhz
    return c


_PRICES: OrderedDict[tuple, PriceList] = OrderedDict()
_BY_HARDWARE: OrderedDict[tuple, PriceList] = OrderedDict()
_PRICES_MAX = 2048


def _remember(memo: OrderedDict, key: tuple, value: PriceList) -> None:
    if len(memo) >= _PRICES_MAX:
        memo.popitem(last=False)
    memo[key] = value


def price_list(cfg: AcceleratorConfig) -> PriceList:
    """The memoized :class:`PriceList` of ``cfg``'s hardware, technology and clock."""
    hw = (hardware_key(cfg), *(getattr(cfg, f) for f in TECH_FIELDS))
    key = (*hw, cfg.clock_mhz)
    hit = _PRICES.get(key)
    if hit is None:
        like = _BY_HARDWARE.get(hw)
        hit = PriceList(cfg, technology_of(cfg), cfg.clock_mhz, like)
        _remember(_PRICES, key, hit)
        if like is None:
            _remember(_BY_HARDWARE, hw, hit)
    return hit


ACTIVITY_FIELDS = tuple(f.name for f in fields(Activity))


def add_activity(a: Activity, b: Activity) -> Activity:
    return Activity(**{f: getattr(a, f) + getattr(b, f) for f in ACTIVITY_FIELDS})


#: Configs on which :func:`check_flip_flop_counts` compares the closed form with the design.
PROBES = (
    AcceleratorConfig(name="ff-probe-ternary", rows=3, cols=6, act_bits=6, acc_bits=20,
                      overflow="saturate", weight_format="base3", weight_buffer_depth=100,
                      act_buffer_depth=37, requant_lanes=2),
    AcceleratorConfig(name="ff-probe-int8", rows=2, cols=4, act_bits=8, acc_bits=24,
                      weight_format="int8", weight_bits=8, weight_buffer_depth=64,
                      act_buffer_depth=64),
)
_CHECKED = False


def check_flip_flop_counts() -> None:
    """Compare :func:`flip_flop_counts` with the elaborated design on :data:`PROBES` (a fraction
    of a second, once per process); raise when ``ternhw/hdl`` changed its registers and the
    closed form was not updated, rather than price points with a stale count."""
    global _CHECKED
    if _CHECKED:
        return
    from ..energy.components import flip_flops
    from ..errors import TernhwError

    for cfg in PROBES:
        want, got = flip_flops(cfg), flip_flop_counts(cfg)
        if want != got:
            diff = {k: (got.get(k, 0), want.get(k, 0)) for k in {*want, *got}
                    if got.get(k, 0) != want.get(k, 0)}
            raise TernhwError(
                "the sweep's closed-form flip-flop count (ternhw/sweep/energy.py) no longer "
                f"matches the generated design ({cfg.name}: closed form vs elaborated "
                f"{diff}); update flip_flop_counts to the registers of ternhw/hdl")
    _CHECKED = True
