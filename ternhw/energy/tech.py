"""Technology: cited primitive energies at a logic node, on-chip SRAM and off-chip DRAM.

Every energy is a :class:`Cost`: picojoules with the source it comes from and flags that say
how it was obtained, so a report can print "interpolated from 8 and 32 bit" or "node-scaled
45 -> 7 nm" next to the number instead of presenting an estimate as a measurement.

Sources (each table file names them per entry):

* ``horowitz45.yaml`` -- integer add and multiply, 45 nm, 0.9 V (Horowitz, ISSCC 2014). The
  figure has 8- and 32-bit integer adds only; every other width is interpolated (flagged).
* ``logic45.yaml`` -- register, counter, comparator, adder leakage (Aladdin, 40 nm), the clock
  energy of a flip-flop and the size of a gate (stated assumptions).
* ``sram_cacti<node>.yaml`` -- SRAM read/write energy per word by word width and depth, and its
  leakage, from CACTI 7 as packaged by hwcomponents-cacti, one table per node CACTI has device
  and wire data for (22, 32, 45, 65, 90 nm; ``benchmarks/gen_sram_cacti_table.py`` regenerates
  them, same grid and inputs at every node). At a logic node with a table, SRAM is priced from
  that table (read, write *and* leakage: CACTI's cells at 22 nm leak several times more than at
  45 nm, which no logic energy factor would say); between two tables, linearly in node between
  them (flagged interpolated); past the table nodes (below 22 nm, above 90 nm), the nearest
  table node-scaled with Stillmaker & Baas (flagged node-scaled: projected past CACTI's range).
* ``dram.yaml`` -- off-chip technologies (LPDDR4, LPDDR5, DDR4, HBM2, DDR3-horowitz): pJ/bit and
  peak bandwidth.
* other logic nodes: Stillmaker & Baas, "Scaling equations for the accurate prediction of CMOS
  device performance from 180 nm to 7 nm", Integration 58 (2017) 74-81: energy factor
  ``a Vdd^2 + b Vdd + c`` per node (coefficients as transcribed in hwcomponents 1.0.114,
  ``hwcomponents/scaling/techscaling.py``), linear in node between table nodes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources

import yaml

from ..errors import ConfigError

#: Off-chip technology used when none is named (its channel matches the shipped configs'
#: ``dram_bandwidth_gbs = 12.8``).
DEFAULT_DRAM = "LPDDR4"
#: Logic node used when none is named: the node of Horowitz's and CACTI's tables.
DEFAULT_NODE_NM = 45.0
#: Supply of the 45 nm source tables (Horowitz: 0.9 V).
SOURCE_VDD = 0.9

STILLMAKER = ("Stillmaker & Baas, Integration 58 (2017) 74-81, energy factor a Vdd^2 + b Vdd + c "
              "(coefficients as in hwcomponents 1.0.114 techscaling.py)")
#: Stillmaker & Baas (2017) energy-factor coefficients (a, b, c) by node in nm.
ENERGY_COEF = {
    130: (7.171, -6.709, 2.904), 90: (4.762, -4.781, 2.092), 65: (3.755, -4.398, 1.975),
    45: (1.103, -0.362, 0.2767), 32: (0.9559, -0.7823, 0.471), 20: (0.373, -0.1582, 0.04104),
    16: (0.2958, -0.1241, 0.03024), 14: (0.2363, -0.09675, 0.02239),
    10: (0.2068, -0.09311, 0.02375), 7: (0.1776, -0.09097, 0.02447),
}
#: Supply assumed at each node when the caller gives none (an assumption, stated in the flags).
NOMINAL_VDD = {130: 1.2, 90: 1.0, 65: 1.0, 45: 0.9, 40: 0.9, 32: 0.9, 28: 0.9, 22: 0.9, 20: 0.9,
               16: 0.8, 14: 0.8, 10: 0.75, 7: 0.7}

FLAG_INTERPOLATED = "interpolated"
FLAG_EXTRAPOLATED = "extrapolated"
FLAG_NODE_SCALED = "node-scaled"
FLAG_ASSUMPTION = "assumption"
FLAG_DERIVED = "derived"


@dataclass(frozen=True)
class Cost:
    """An energy in pJ with its provenance.

    ``flags`` is a subset of interpolated / extrapolated / node-scaled / assumption / derived;
    ``note`` says how in words (e.g. "interpolated from 8 and 32 bit")."""

    pj: float
    source: str
    flags: tuple[str, ...] = ()
    note: str = ""

    def scaled(self, k: float, note: str = "", flag: str | None = None) -> Cost:
        """This cost times ``k`` (a count of identical parts, a width ratio, ...)."""
        flags = self.flags if flag is None or flag in self.flags else (*self.flags, flag)
        return replace(self, pj=self.pj * k, flags=flags, note=_join(self.note, note))

    def __add__(self, other: Cost) -> Cost:
        src = self.source if other.source in self.source else _join(self.source, other.source)
        return Cost(self.pj + other.pj, src, tuple(dict.fromkeys([*self.flags, *other.flags])),
                    _join(self.note, other.note))

    def to_dict(self) -> dict:
        return {"pj": self.pj, "source": self.source, "flags": list(self.flags),
                "note": self.note}


def zero(reason: str) -> Cost:
    """A zero energy that says why it is zero (an assumption or a fact of the RTL)."""
    return Cost(0.0, reason, (FLAG_ASSUMPTION,))


def _join(a: str, b: str) -> str:
    return "; ".join(x for x in dict.fromkeys([a, b]) if x)


# ---- node scaling ------------------------------------------------------------------------
def _coef(node_nm: float) -> tuple[float, float, float]:
    nodes = sorted(ENERGY_COEF)
    if not nodes[0] <= node_nm <= nodes[-1]:
        raise ConfigError(f"logic node {node_nm:g} nm is outside the scaling table "
                          f"({nodes[0]}-{nodes[-1]} nm, Stillmaker & Baas 2017)")
    if node_nm in ENERGY_COEF:
        return ENERGY_COEF[node_nm]
    lo = max(n for n in nodes if n < node_nm)
    hi = min(n for n in nodes if n > node_nm)
    f = (node_nm - lo) / (hi - lo)
    return tuple(a + (b - a) * f for a, b in zip(ENERGY_COEF[lo], ENERGY_COEF[hi], strict=True))


def energy_factor(node_nm: float, vdd: float) -> float:
    """Stillmaker & Baas's energy factor of ``node_nm`` at ``vdd`` volts (relative units)."""
    a, b, c = _coef(node_nm)
    return a * vdd * vdd + b * vdd + c


def nominal_vdd(node_nm: float) -> float:
    """The supply assumed at a node (nearest entry of :data:`NOMINAL_VDD`)."""
    return NOMINAL_VDD[min(NOMINAL_VDD, key=lambda n: abs(n - node_nm))]


def node_scale(to_nm: float, from_nm: float, to_vdd: float | None = None,
               from_vdd: float | None = None) -> float:
    """Energy at ``to_nm`` / energy at ``from_nm`` (each at its supply; nominal if None)."""
    to_vdd = nominal_vdd(to_nm) if to_vdd is None else to_vdd
    from_vdd = nominal_vdd(from_nm) if from_vdd is None else from_vdd
    return energy_factor(to_nm, to_vdd) / energy_factor(from_nm, from_vdd)


# ---- tables ------------------------------------------------------------------------------
def _yaml(name: str) -> dict:
    return yaml.safe_load(resources.files("ternhw.energy").joinpath(name).read_text())


@dataclass(frozen=True)
class SourceTable:
    """A cited table of primitive energies (``horowitz45.yaml``): its name, citation and
    entries (``add`` and ``multiply`` each with ``points``: width -> pJ)."""

    name: str
    citation: str
    data: dict


@cache
def horowitz_table() -> SourceTable:
    """Horowitz's 45 nm integer add and multiply energies (``horowitz45.yaml``), checked."""
    data = _yaml("horowitz45.yaml")
    for key in ("add", "multiply"):
        pts = (data.get(key) or {}).get("points") if isinstance(data, dict) else None
        if not isinstance(pts, dict) or not pts or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
                for v in pts.values()):
            raise ConfigError(f"ternhw/energy/horowitz45.yaml: {key!r} needs 'points' "
                              "{width: pJ, ...} with non-negative energies")
    if not data.get("citation"):
        raise ConfigError("ternhw/energy/horowitz45.yaml: missing 'citation'")
    return SourceTable(data.get("name", "horowitz45"), data["citation"], data)


@cache
def logic_table() -> dict:
    return _yaml("logic45.yaml")


def _sram_file(node_nm: float) -> str:
    return f"sram_cacti{node_nm:g}.yaml"


@cache
def sram_nodes() -> tuple[float, ...]:
    """The nodes (nm) with a shipped CACTI SRAM table (``sram_cacti<node>.yaml``), ascending."""
    nodes = []
    for f in resources.files("ternhw.energy").iterdir():
        if f.name.startswith("sram_cacti") and f.name.endswith(".yaml"):
            try:
                nodes.append(float(f.name.removeprefix("sram_cacti").removesuffix(".yaml")))
            except ValueError:
                continue
    if DEFAULT_NODE_NM not in nodes:
        raise ConfigError(f"ternhw/energy/{_sram_file(DEFAULT_NODE_NM)} is missing")
    return tuple(sorted(nodes))


@cache
def sram_table(node_nm: float = DEFAULT_NODE_NM) -> dict:
    """The CACTI SRAM table of ``node_nm`` (one of :func:`sram_nodes`; default 45 nm)."""
    if float(node_nm) not in sram_nodes():
        raise ConfigError(f"no CACTI SRAM table at {node_nm:g} nm (tables at "
                          f"{', '.join(f'{n:g}' for n in sram_nodes())} nm)")
    return _yaml(_sram_file(float(node_nm)))


@cache
def dram_table() -> dict:
    return _yaml("dram.yaml")["technologies"]


def dram_technologies() -> list[str]:
    """Names accepted as ``dram=`` (the shipped ``dram.yaml``)."""
    return list(dram_table())


@dataclass(frozen=True)
class Sram:
    """One SRAM array's per-word read and write energies and its leakage (W)."""

    width: int
    depth: int
    read: Cost
    write: Cost
    leak_w: float
    leak: Cost      # leakage as pJ per nanosecond (= mW), for the record


def _interp_1d(xs, ys, x):
    """Linear interpolation in ``x`` (extrapolation past the ends); returns (y, kind)."""
    if x in xs:
        return ys[xs.index(x)], "exact"
    i = 1 if x < xs[0] else len(xs) - 1 if x > xs[-1] else next(
        j for j in range(1, len(xs)) if xs[j] > x)
    f = (x - xs[i - 1]) / (xs[i] - xs[i - 1])
    kind = FLAG_INTERPOLATED if xs[0] < x < xs[-1] else FLAG_EXTRAPOLATED
    return ys[i - 1] + (ys[i] - ys[i - 1]) * f, kind


def sram_lookup(width: int, depth: int, key: str,
                node_nm: float = DEFAULT_NODE_NM) -> tuple[float, str, str]:
    """``key`` (read_pj, write_pj, leak_mw) of a ``width x depth`` SRAM from the CACTI grid of
    ``node_nm`` (a node of :func:`sram_nodes`; default 45 nm): bilinear in (log2 width,
    log2 depth). Returns (value, flag or "", note)."""
    label = "the CACTI grid" if node_nm == DEFAULT_NODE_NM else f"the {node_nm:g} nm CACTI grid"
    return _sram_grid(width, depth, key, node_nm, label)


def _sram_grid(width: int, depth: int, key: str, node_nm: float,
               label: str) -> tuple[float, str, str]:
    pts = sram_table(node_nm)["points"]
    widths = sorted({p["width"] for p in pts})
    depths = sorted({p["depth"] for p in pts})
    grid = {(p["width"], p["depth"]): p[key] for p in pts}
    lw, ld = math.log2(width), math.log2(depth)
    lws, lds = [math.log2(w) for w in widths], [math.log2(d) for d in depths]
    # interpolate along depth for each width, then along width (log-log energies stay positive)
    per_w, kinds = [], set()
    for w in widths:
        v, k = _interp_1d(lds, [math.log(max(grid[w, d], 1e-12)) for d in depths], ld)
        per_w.append(v)
        kinds.add(k)
    v, k = _interp_1d(lws, per_w, lw)
    kinds.add(k)
    value = math.exp(v)
    if FLAG_EXTRAPOLATED in kinds:
        flag = FLAG_EXTRAPOLATED
    elif FLAG_INTERPOLATED in kinds:
        flag = FLAG_INTERPOLATED
    else:
        return value, "", ""
    note = (f"{flag} in log2 width and depth from {label} ({widths[0]}-{widths[-1]} bit x "
            f"{depths[0]}-{depths[-1]} words) for {width} bit x {depth} words")
    return value, flag, note


def sram_source(node_nm: float) -> tuple[tuple[float, ...], str]:
    """Which CACTI tables price SRAM at logic node ``node_nm``, and how, in words: (the table
    nodes used, one or two, and the source text that names them)."""
    nodes = sram_nodes()
    cite = sram_table()["citation"]
    if node_nm in nodes:
        used = (node_nm,)
        how = "" if node_nm == DEFAULT_NODE_NM else f"{node_nm:g} nm table ({_sram_file(node_nm)})"
    elif nodes[0] < node_nm < nodes[-1]:
        used = (max(n for n in nodes if n < node_nm), min(n for n in nodes if n > node_nm))
        how = (f"{node_nm:g} nm interpolated linearly in node between the {used[0]:g} and "
               f"{used[1]:g} nm tables ({_sram_file(used[0])}, {_sram_file(used[1])})")
    else:
        used = (nodes[0] if node_nm < nodes[0] else nodes[-1],)
        how = (f"{used[0]:g} nm table ({_sram_file(used[0])}) node-scaled to {node_nm:g} nm: "
               f"projected past CACTI's range ({nodes[0]:g}-{nodes[-1]:g} nm)")
    return used, _join(cite, how)


def technology_of(cfg, node_nm: float | None = None) -> Technology:
    """The technology an :class:`~ternhw.config.AcceleratorConfig` names (``logic_node_nm``,
    ``dram_technology``, ``vdd``), optionally at another logic node: what the report, the
    method tables, ``ternhw energy`` and the peer checks price in."""
    return Technology(node_nm=cfg.logic_node_nm if node_nm is None else node_nm,
                      dram=cfg.dram_technology, vdd=cfg.vdd)


class Technology:
    """Primitive energies at a logic node with an off-chip memory technology.

    Parameters
    ----------
    node_nm : float
        Logic node, 7-130 nm (default 45, the node of the source tables). Logic energies at
        other nodes are reached with Stillmaker & Baas (2017); every value so obtained is
        flagged node-scaled. SRAM comes from CACTI's table of the node where one ships, is
        interpolated between tables, and node-scaled only past them (:meth:`sram`).
    dram : str
        Off-chip technology, a key of ``dram.yaml`` (default :data:`DEFAULT_DRAM`).
    vdd : float, optional
        Supply at ``node_nm``; default the nominal supply of :data:`NOMINAL_VDD`.
    """

    def __init__(self, node_nm: float = DEFAULT_NODE_NM, dram: str = DEFAULT_DRAM,
                 vdd: float | None = None):
        if isinstance(node_nm, bool) or not isinstance(node_nm, int | float):
            raise ConfigError(f"logic node must be a number of nm, not {node_nm!r}")
        if dram not in dram_table():
            raise ConfigError(f"unknown off-chip memory technology {dram!r}: one of "
                              f"{', '.join(dram_table())}")
        _coef(node_nm)                                   # range check
        self.node_nm = float(node_nm)
        self.vdd = nominal_vdd(node_nm) if vdd is None else float(vdd)
        self.dram_name = dram
        self.horowitz = horowitz_table()
        self.logic = logic_table()

    # -- provenance helpers ----------------------------------------------------------------
    def _at_node(self, cost: Cost, from_nm: float, from_vdd: float = SOURCE_VDD) -> Cost:
        if from_nm == self.node_nm and math.isclose(from_vdd, self.vdd):
            return cost
        k = energy_factor(self.node_nm, self.vdd) / energy_factor(from_nm, from_vdd)
        return Cost(cost.pj * k, _join(cost.source, STILLMAKER),
                    tuple(dict.fromkeys([*cost.flags, FLAG_NODE_SCALED])),
                    _join(cost.note, f"node-scaled {from_nm:g} nm {from_vdd:g} V -> "
                                     f"{self.node_nm:g} nm {self.vdd:g} V (x{k:.3f})"))

    def describe(self) -> dict:
        """What the report prints: which tables and node were used."""
        d = dram_table()[self.dram_name]
        return {
            "logic_node_nm": self.node_nm, "vdd": self.vdd,
            "logic_tables": [self.horowitz.citation, "logic45.yaml (per entry)"],
            "node_scaling": None if self.node_nm == DEFAULT_NODE_NM else STILLMAKER,
            "sram": sram_source(self.node_nm)[1],
            "dram": {"technology": self.dram_name, **d},
        }

    # -- arithmetic ------------------------------------------------------------------------
    def add(self, bits: int) -> Cost:
        """One ``bits``-wide integer addition (Horowitz: 8 and 32 bit only)."""
        pts = self.horowitz.data["add"]["points"]
        xs = sorted(pts)
        src = f"Horowitz ISSCC 2014, {'/'.join(str(x) for x in xs)}-bit integer add"
        if bits in pts:
            c = Cost(pts[bits], src)
        elif bits < xs[0]:
            c = Cost(pts[xs[0]] * bits / xs[0], src, (FLAG_EXTRAPOLATED,),
                     f"extrapolated from {xs[0]} bit, proportional to width ({bits} bit)")
        else:
            v, kind = _interp_1d(xs, [pts[x] for x in xs], bits)
            how = " and ".join(str(x) for x in xs[:2] if kind == FLAG_INTERPOLATED) or \
                f"{xs[-2]} and {xs[-1]}"
            c = Cost(v, src, (kind,), f"{kind} from {how} bit ({bits} bit)")
        return self._at_node(c, 45)

    def multiply(self, bits_a: int, bits_b: int) -> Cost:
        """One ``bits_a x bits_b`` integer multiplication (Horowitz: 8x8 and 32x32)."""
        pts = self.horowitz.data["multiply"]["points"]
        xs = sorted(pts)
        x = bits_a * bits_b
        src = "Horowitz ISSCC 2014, 8x8 and 32x32-bit integer multiply"
        if x in pts:
            c = Cost(pts[x], src)
        else:
            v, kind = _interp_1d(xs, [pts[p] for p in xs], x)
            c = Cost(v, src, (kind,), f"{kind} from 8x8 and 32x32 bit in the product of the "
                                      f"operand widths ({bits_a}x{bits_b})")
        return self._at_node(c, 45)

    def fa_bit(self) -> Cost:
        """One full-adder bit: Horowitz's 8-bit add / 8 (a ripple adder is 8 such bits)."""
        return self._at_node(Cost(self.horowitz.data["add"]["points"][8] / 8,
                                  "Horowitz ISSCC 2014 8-bit add / 8", (FLAG_DERIVED,),
                                  "one full-adder bit = 8-bit add / 8"), 45)

    def gate(self) -> Cost:
        """One 2-input gate toggle (a stated fraction of a full-adder bit)."""
        e = self.logic["gate_fraction_of_fa_bit"]
        return self.fa_bit().scaled(e["value"]) + Cost(0.0, e["source"], (FLAG_ASSUMPTION,))

    def mux_bit(self) -> Cost:
        """One bit of a 2:1 multiplexer: two gate equivalents (assumption)."""
        return self.gate().scaled(2, "2:1 mux bit = 2 gates")

    def _aladdin(self, key: str, k: float = 1.0, note: str = "") -> Cost:
        e = self.logic[key]
        return self._at_node(Cost(e["value"] * k, e["source"], (), note), e["node_nm"])

    def register_bits(self, bits: int) -> Cost:
        """Writing ``bits`` flip-flops with new data."""
        return self._aladdin("register_bit", bits, f"{bits} bit")

    def counter(self, bits: int) -> Cost:
        """One increment of a ``bits``-wide counter (Aladdin's 32-bit counter, linear)."""
        return self._aladdin("counter_32b", bits / 32,
                             f"linear in width from the 32-bit counter ({bits} bit)") \
            if bits != 32 else self._aladdin("counter_32b")

    def compare(self, bits: int) -> Cost:
        """One magnitude comparison of ``bits``-wide values (Aladdin's 32-bit, linear)."""
        return self._aladdin("comparator_32b", bits / 32,
                             f"linear in width from the 32-bit comparator ({bits} bit)")

    def clock_ff(self) -> Cost:
        """Clock energy of one flip-flop for one cycle (C x Vdd^2, a stated assumption)."""
        e = self.logic["clock_pin_ff"]
        c = Cost(e["capacitance_ff"] * 1e-3 * e["vdd"] ** 2, e["source"], (FLAG_ASSUMPTION,))
        return self._at_node(c, e["node_nm"], e["vdd"])

    def leak_w_per_bit(self) -> tuple[float, Cost]:
        """Leakage of one logic bit (adder bit or flip-flop, an assumption that they are alike),
        from Aladdin's 32-bit adder leakage: (W, the same as a Cost in mW = pJ per ns)."""
        e = self.logic["adder_leak_32b_w"]
        c = self._at_node(Cost(e["value"] / 32 * 1e3, e["source"], (FLAG_ASSUMPTION,),
                               "mW per logic bit = 32-bit adder / 32; a flip-flop counted as "
                               "one adder bit"), e["node_nm"])
        return c.pj * 1e-3, c

    # -- memories --------------------------------------------------------------------------
    def sram(self, width: int, depth: int) -> Sram:
        """A ``depth``-word SRAM of ``width``-bit words from CACTI at this node.

        At a node with a CACTI table (:func:`sram_nodes`: 22, 32, 45, 65, 90 nm) read, write and
        leakage are that table's (bilinear in log2 width and depth between its grid points).
        Between two table nodes each is linear in node between the two tables' figures
        (flagged interpolated). Past the table nodes the nearest table is scaled by Stillmaker &
        Baas's energy factor, leakage included (flagged node-scaled; projected past CACTI's
        range). Each table is taken as at its node's nominal supply (:data:`NOMINAL_VDD`); another
        ``vdd`` scales all three by the energy factor at the node (flagged node-scaled)."""
        used, src = sram_source(self.node_nm)
        out = {}
        for key in ("read_pj", "write_pj", "leak_mw"):
            if len(used) == 1:
                v, flag, note = sram_lookup(width, depth, key, used[0])
                flags, from_nm = (flag,), used[0]
            else:
                lo, hi = used
                label = f"the {lo:g} and {hi:g} nm CACTI grids"
                v_lo, flag, note = _sram_grid(width, depth, key, lo, label)
                v_hi, flag_hi, _ = _sram_grid(width, depth, key, hi, label)
                v = v_lo + (v_hi - v_lo) * (self.node_nm - lo) / (hi - lo)
                flags, from_nm = (flag, flag_hi, FLAG_INTERPOLATED), self.node_nm
                note = _join(note, f"interpolated linearly in node: {v_lo:.4g} at {lo:g} nm, "
                                   f"{v_hi:.4g} at {hi:g} nm -> {self.node_nm:g} nm")
            flags = tuple(x for x in dict.fromkeys(flags) if x)
            out[key] = self._at_node(Cost(v, src, flags, note), from_nm, nominal_vdd(from_nm))
            if key == "leak_mw" and from_nm != self.node_nm:       # past CACTI's range
                out[key] = replace(out[key], flags=(*out[key].flags, FLAG_ASSUMPTION),
                                   note=_join(out[key].note, "no CACTI leakage at this node: "
                                              "scaled by the dynamic-energy factor"))
        leak_w = out["leak_mw"].pj * 1e-3
        return Sram(width, depth, out["read_pj"], out["write_pj"], leak_w, out["leak_mw"])

    def dram_bit(self) -> Cost:
        """Moving one bit to or from off-chip memory (device + interface)."""
        d = dram_table()[self.dram_name]
        flags = (FLAG_ASSUMPTION,) if d.get("assumption") else ()
        return Cost(d["pj_per_bit"], f"{self.dram_name} ({d['channel']}): {d['source']}", flags)

    def dram_bandwidth_gbs(self) -> float:
        """Peak bandwidth of the named channel, GB/s."""
        return dram_table()[self.dram_name]["bandwidth_gbs"]
