"""Functional coverage of a co-simulation run, with cocotb-coverage's cover points.

Every command the bulk engine runs is sampled once (:func:`sample`) into these cover points
(under ``ternhw`` in cocotb-coverage's database):

=====================  ========================================================================
``shape.k_mod_cols``   K mod cols: every remainder (the last chunk's width)
``shape.n_mod_rows``   N mod rows: every remainder (the last tile's live rows)
``shape.tokens``       M = 1, M between, M = the most tokens the activation buffer holds
``weights.code``       every weight code of the format (2-bit: -1, 0, +1; base-3: all 243
                       byte values; int8: each sign and both extremes)
``weights.zero_chunk`` a weight word whose every lane is zero (a fully skipped step)
``acc.overflow``       an accumulator leaving its range upward, and downward
``requant.saturate``   an int8 output clamped at +127, and at -128
``requant.tie``        a rounding tie (remainder exactly half) of a positive and a negative
                       product
``requant.relu``       a negative value clamped to 0 by ReLU
``stream.<s>.wait``    words of stream ``s`` (act, weight, bias, result) that waited 0, 1 and
                       2+ clocks with ``valid`` high and ``ready`` low (act: 0 and 1 only;
                       the activation buffer holds a whole command, so the loader takes every
                       word once the command runs and only a word offered with ``start``
                       waits, one clock)
``stall.cause``        the array waiting on each input (the design ready, the stream empty)
                       and held by the output stage
=====================  ========================================================================

Bins are computed from what the command's result proves happened: the operands and the
model's values (which the run found bit-exact), and the handshake statistics the harness
counted. :func:`report` summarises hits per bin; :func:`export` writes cocotb-coverage's YAML
(or XML) coverage file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..config import AcceleratorConfig
from ..fileio import atomic_path
from ..hdl.transactions import weight_blocks

ROOT = "ternhw"
STREAMS = ("act", "weight", "bias", "result")


def _code_bins(cfg: AcceleratorConfig) -> list:
    if cfg.weight_format == "base3":
        return list(range(243))
    if cfg.weight_format == "2bit":
        return [-1, 0, 1]
    return ["-128", "negative", "0", "positive", "+127"]


class Coverage:
    """The cover points for one run on ``cfg`` (the database is reset for each new run)."""

    def __init__(self, cfg: AcceleratorConfig):
        from cocotb_coverage.coverage import CoverPoint, coverage_db

        for key in [k for k in coverage_db if k == ROOT or k.startswith(ROOT + ".")]:
            del coverage_db[key]
        self.cfg = cfg
        self.db = coverage_db
        self._points = {}

        def point(name, bins, multi=False):
            # ``multi``: the sampled value is a set of bins, each hit once per command
            rel = (lambda got, b: b in got) if multi else None
            cp = CoverPoint(f"{ROOT}.{name}", xf=lambda v: v, bins=bins, rel=rel,
                            inj=not multi)
            self._points[name] = cp(lambda v: None)

        point("shape.k_mod_cols", list(range(cfg.cols)))
        point("shape.n_mod_rows", list(range(cfg.rows)))
        point("shape.tokens", ["1", "between", "buffer maximum"], multi=True)
        point("weights.code", _code_bins(cfg), multi=True)
        point("weights.zero_chunk", [True])
        point("acc.overflow", ["up", "down"], multi=True)
        point("requant.saturate", ["+127", "-128"], multi=True)
        point("requant.tie", ["positive", "negative"], multi=True)
        point("requant.relu", [True])
        for s in STREAMS:
            point(f"stream.{s}.wait", ["0", "1"] + ([] if s == "act" else ["2+"]), multi=True)
        point("stall.cause", ["act", "weight", "bias", "output hold"], multi=True)

    def _hit(self, name: str, value) -> None:
        if value is not None and value != set():
            self._points[name](value)

    def sample(self, case, tx, expected, result: dict) -> None:
        """Sample one command: ``case`` (a CosimCase), its transaction, the model's result
        and the run's result record (with the bulk engine's ``streams`` statistics)."""
        cfg = self.cfg
        m, k, n = tx.m, tx.k, tx.n
        T = -(-k // cfg.cols)
        self._hit("shape.k_mod_cols", k % cfg.cols)
        self._hit("shape.n_mod_rows", n % cfg.rows)
        tokens = {"1"} if m == 1 else {"between"}
        if m == cfg.act_buffer_depth // T:
            tokens.add("buffer maximum")
        self._hit("shape.tokens", tokens)

        w = np.asarray(case.w)
        if not tx.keep_weights:
            self._hit("weights.code", self._codes(tx, w))
            if (~weight_blocks(cfg, w).any(axis=(1, 2))).any():
                self._hit("weights.zero_chunk", True)

        x = np.asarray(case.x, dtype=np.int64)
        exact = x @ w.T.astype(np.int64)
        if case.bias is not None:
            exact = exact + np.asarray(case.bias, dtype=np.int64)
        top = (1 << (cfg.acc_bits - 1)) - 1
        self._hit("acc.overflow", {side for side, hit in (("up", (exact > top).any()),
                                                            ("down", (exact < -top - 1).any()))
                                   if hit})
        rq = case.requant
        if rq is not None:
            out, sat = np.asarray(expected.out), np.asarray(expected.saturated, dtype=bool)
            self._hit("requant.saturate", {s for s, hit in (("+127", (sat & (out == 127)).any()),
                                                           ("-128", (sat & (out == -128)).any()))
                                           if hit})
            # |acc| < 2^31 and the multiplier < 2^16: the product fits int64
            prod = np.asarray(expected.acc, dtype=np.int64) * rq.multiplier
            if rq.shift > 0:
                ties = np.abs(prod) % (1 << rq.shift) == 1 << (rq.shift - 1)
                self._hit("requant.tie", {s for s, hit in (
                    ("positive", (ties & (prod > 0)).any()),
                    ("negative", (ties & (prod < 0)).any())) if hit})
            if rq.relu and ((prod < 0) & (out == 0)).any():
                self._hit("requant.relu", True)

        streams = result.get("streams")
        if streams:
            for s in STREAMS:
                self._hit(f"stream.{s}.wait",
                          {b for b, c in zip(("0", "1", "2+"), streams[s]["waits"], strict=True)
                           if c and (b != "2+" or s != "act")})
            causes = {s for s, name in (("act", "act"), ("weight", "weight"),
                                        ("bias", "bias")) if streams[name]["starved"]}
            if result["counters"]["hold_cycles"]:
                causes.add("output hold")
            self._hit("stall.cause", causes)

    def _codes(self, tx, w: np.ndarray) -> set:
        fmt = self.cfg.weight_format
        if fmt == "base3":
            nbytes = self.cfg.weight_word_bits // 8
            return {b for word in tx.weight_words for b in word.to_bytes(nbytes, "little")}
        if fmt == "2bit":
            return {int(v) for v in np.unique(w)}
        codes = set()
        for label, hit in (("-128", (w == -128).any()), ("negative", (w < 0).any()),
                           ("0", (w == 0).any()), ("positive", (w > 0).any()),
                           ("+127", (w == 127).any())):
            if hit:
                codes.add(label)
        return codes

    def report(self) -> dict:
        """Per cover point: bins hit, bins in all, and the bins never hit."""
        out = {}
        for name in self._points:
            cp = self.db[f"{ROOT}.{name}"]
            missing = [str(b) for b, hits in cp.detailed_coverage.items() if hits == 0]
            out[name] = {"hit": cp.coverage, "bins": cp.size, "missing": missing}
        total_hit = sum(v["hit"] for v in out.values())
        total = sum(v["bins"] for v in out.values())
        return {"bins_hit": total_hit, "bins": total,
                "percent": 100.0 * total_hit / total if total else 100.0, "points": out}

    def export(self, path) -> None:
        """cocotb-coverage's coverage file: YAML, or XML when ``path`` ends in ``.xml``
        (written to a temporary file beside it, then renamed: never half a report)."""
        with atomic_path(path) as tmp:
            if Path(path).suffix == ".xml":
                self.db.export_to_xml(filename=str(tmp))
            else:
                self.db.export_to_yaml(filename=str(tmp))
