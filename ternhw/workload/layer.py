"""The workload definition: a :class:`Workload` is a named list of :class:`Layer` GEMMs.

One definition serves the report (cycles, events, energy, traffic per layer), the sweep (its
weight statistics) and the co-simulation (the operands of a layer's commands), so the three
cannot disagree on a layer's shape, its weights or its schedule.

A layer is ``Y = X W^T`` with ``X`` of ``m x k`` (tokens x reduction) and ``W`` of ``n x k``.
Its weights are either real (ternarized from a model file, possibly lazily: a MiniLM
co-simulation of one layer must not ternarize the other 36) or *projected*: seeded random trits
with a stated zero fraction, for shapes without weights (BitNet b1.58 2B, a TOML or SCALE-Sim
shape list). Its activations come from a *feed* when the workload has real ones (the digits
images through the integer MLP, the sentences through MiniLM); otherwise co-simulation draws
seeded random activations and says so.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ..config import AcceleratorConfig
from ..errors import TernhwError
from ..model.contract import Requant
from ..model.gemm import WeightMatrix

#: Zero fraction of projected (synthetic) trits when a workload does not state one: MiniLM's
#: measured absmean zero fraction over its 37 matrices (33.1 %, ``ternhw quantize minilm``),
#: since no real weights exist for those shapes.
DEFAULT_ZERO_FRACTION = 0.331
#: Tokens a co-simulation of a layer runs when not told (at most the layer's ``m``).
DEFAULT_SIM_TOKENS = 16


def check_dim(value, what: str) -> int:
    """``value`` as a positive int, or a :class:`TernhwError` naming ``what``. The 16-bit
    command limit is not checked here: the schedule splits tokens over commands, and K or N
    beyond a config's buffers is the schedule's error (it knows the config)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise TernhwError(f"{what} must be a positive integer, not {value!r}")
    return int(value)


def check_zero_fraction(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not (
            math.isfinite(value) and 0 <= value < 1):
        raise TernhwError(f"{what} must be a number in [0, 1), not {value!r}")
    return float(value)


def weights_for(cfg: AcceleratorConfig, trits: np.ndarray) -> WeightMatrix:
    """The array's weights: the trits themselves, or for the int8 baseline the same matrix as
    int8 values (zeros where the trits are zero; non-zeros are what the multipliers see)."""
    if cfg.is_ternary:
        return WeightMatrix(trits)
    return WeightMatrix(np.asarray(trits, dtype=np.int8) * 64, ternary=False)


def synthetic_trits(k: int, n: int, zero_fraction: float, seed: int) -> np.ndarray:
    """Projected weights: random trits with a given zero fraction (no real weights exist)."""
    rng = np.random.default_rng(seed)
    nz = 0.5 * (1 - zero_fraction)
    return rng.choice(np.array([-1, 0, 1], dtype=np.int8), size=(n, k),
                      p=[nz, zero_fraction, nz])


@dataclass
class Operands:
    """What one co-simulation of a layer feeds the accelerator: ``x`` (tokens x k, in the
    config's activation range), the ternary ``w`` (n x k), the integer bias and requantizer
    the layer runs with (or None), and a sentence saying where ``x`` came from."""

    x: np.ndarray
    w: np.ndarray
    bias: np.ndarray | None
    requant: Requant | None
    note: str


class Feed(Protocol):
    """A source of real activations for the layers of one workload."""

    def operands(self, cfg: AcceleratorConfig, layer: Layer, tokens: int | None
                 ) -> tuple[np.ndarray, np.ndarray | None, Requant | None, str]:
        """``(x, bias, requant, note)`` of ``layer`` for ``tokens`` tokens (None: the feed's
        default) on ``cfg``; the note says where ``x`` came from."""
        ...


class Layer:
    """One GEMM of ``m x k x n``, run ``count`` times per inference (BitNet's 30 blocks).

    ``weights`` is a :class:`WeightMatrix` or a trit array (``n x k``), or None with either
    ``weights_fn`` (real weights made on first use) or ``zero_fraction`` and ``seed``
    (projected trits, also made on first use, so a shape that the config cannot take fails in
    the schedule before gigabytes of trits are drawn). ``tensor`` is the model tensor the layer
    comes from; ``where`` names its file and entry for error messages; ``feed`` gives real
    activations."""

    def __init__(self, name: str, m: int, k: int, n: int,
                 weights: WeightMatrix | np.ndarray | None = None, real: bool = True,
                 count: int = 1, requant: bool = False, bias: bool = False, *,
                 weights_fn: Callable[[], np.ndarray] | None = None,
                 zero_fraction: float | None = None, seed: int = 0,
                 tensor: str | None = None, where: str | None = None,
                 feed: Feed | None = None):
        label = where or f"layer {name!r}"
        self.name = name
        self.m = check_dim(m, f"{label}: m")
        self.k = check_dim(k, f"{label}: k")
        self.n = check_dim(n, f"{label}: n")
        self.count = check_dim(count, f"{label}: count")
        self.requant, self.bias = bool(requant), bool(bias)
        self.tensor, self.where, self.feed = tensor, where, feed
        self.seed = seed
        self._fn = weights_fn
        self._weights: WeightMatrix | None = None
        self._int8: WeightMatrix | None = None
        self.zero_fraction = None
        if weights is not None:
            self._weights = weights if isinstance(weights, WeightMatrix) else WeightMatrix(
                np.asarray(weights))
            if self._weights.shape != (self.n, self.k):
                raise TernhwError(f"{label}: weights are {self._weights.shape[0]}x"
                                  f"{self._weights.shape[1]}, the layer is n x k = "
                                  f"{self.n}x{self.k}")
            self.real = bool(real)
        elif weights_fn is not None:
            self.real = bool(real)
        else:
            zf = DEFAULT_ZERO_FRACTION if zero_fraction is None else zero_fraction
            self.zero_fraction = check_zero_fraction(zf, f"{label}: zero_fraction")
            self.real = False

    def __repr__(self) -> str:
        kind = "real" if self.real else f"projected, zero fraction {self.zero_fraction}"
        count = f" x{self.count}" if self.count > 1 else ""
        return f"Layer({self.name!r}, {self.m}x{self.k}x{self.n}{count}, {kind})"

    @property
    def macs(self) -> int:
        return self.m * self.k * self.n * self.count

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.m, self.k, self.n

    @property
    def weights(self) -> WeightMatrix:
        """The layer's weights as the model file (or the projection) gives them: ternary."""
        if self._weights is None:
            if self._fn is not None:
                trits = np.asarray(self._fn())
            else:
                trits = synthetic_trits(self.k, self.n, self.zero_fraction, self.seed)
            w = WeightMatrix(trits)
            if w.shape != (self.n, self.k):
                raise TernhwError(f"{self.where or self.name}: weights are {w.shape[0]}x"
                                  f"{w.shape[1]}, the layer is n x k = {self.n}x{self.k}")
            self._weights = w
        return self._weights

    def weights_on(self, cfg: AcceleratorConfig) -> WeightMatrix:
        """The weights the array of ``cfg`` holds (:func:`weights_for`), built once per kind,
        so every design of a report shares one layer object."""
        w = self.weights
        if cfg.is_ternary or not w.ternary:
            return w
        if self._int8 is None:
            self._int8 = weights_for(cfg, w.w)
        return self._int8

    @property
    def label(self) -> str:
        """The name a user gives ``--layer`` and co-simulation cases carry: the tensor name
        for layers of a model file, else the layer name."""
        return self.tensor or self.name

    def weights_note(self) -> str:
        if self.real:
            return "real ternarized weights"
        return (f"projected: synthetic trits, zero fraction {self.zero_fraction:g} "
                f"(seed {self.seed})")

    def operands(self, cfg: AcceleratorConfig, tokens: int | None = None,
                 seed: int = 0) -> Operands:
        """The operands a co-simulation of this layer runs: real activations from the
        workload's feed, else seeded random ones (and, for a layer with ``bias`` or
        ``requant`` but no values for them, a seeded bias and a requantizer scaled to the
        layer's ``k``), with a note saying which."""
        if tokens is not None:
            check_dim(tokens, "--tokens")
        w = self.weights.w
        if self.feed is not None:
            x, bias, requant, note = self.feed.operands(cfg, self, tokens)
            return Operands(np.asarray(x), w, bias, requant, note)
        tokens = tokens or min(DEFAULT_SIM_TOKENS, self.m)
        rng = np.random.default_rng(seed)
        x = rng.integers(cfg.act_min, cfg.act_max + 1, size=(tokens, self.k))
        bias = rng.integers(-1000, 1001, size=self.n) if self.bias else None
        requant = None
        if self.requant:   # a typical |acc| is act_max * sqrt(k): map a few of those to 127
            requant = Requant.from_scale(127 / (3 * cfg.act_max * math.sqrt(self.k)))
        what = "this model file has no activations" if self.real else \
            f"a shape list has no activations; weights {self.weights_note()}"
        return Operands(x, w, bias, requant, f"seeded random activations (seed {seed}): {what}")

    def to_dict(self) -> dict:
        d = {"name": self.name, "m": self.m, "k": self.k, "n": self.n, "count": self.count,
             "bias": self.bias, "requant": self.requant, "real_weights": self.real}
        if self.tensor:
            d["tensor"] = self.tensor
        if not self.real:
            d["zero_fraction"] = self.zero_fraction
        return d


@dataclass(eq=False)
class Workload:
    """A named list of layers: one inference (or one pass of a shape list).

    ``tokens`` is what per-token figures divide by (tokens, images, or 1 for a shape list
    that does not say); ``source`` the model or file it was built from; ``notes`` what a
    reader must know (projected weights, how a convolution became a GEMM)."""

    name: str
    layers: list[Layer]
    tokens: int = 1
    source: str = ""
    notes: list[str] = field(default_factory=list)
    #: ``unknown(name)``: the message for a layer name the workload lacks (a model file's says
    #: whether the tensor exists but is not a linear layer); None: a generic one.
    unknown: Callable[[str], str] | None = field(default=None, repr=False)

    def __post_init__(self):
        if not self.layers:
            raise TernhwError(f"{self.source or self.name}: the workload has no layers")
        check_dim(self.tokens, f"{self.source or self.name}: tokens")

    @property
    def real(self) -> bool:
        """Whether every layer has real weights."""
        return all(layer.real for layer in self.layers)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    def find(self, name: str) -> Layer:
        """The layer called ``name`` (its name, or its tensor name with or without
        ``.weight``), or an error listing close names."""
        for layer in self.layers:
            if name in (layer.name, layer.tensor) or (
                    layer.tensor and name == layer.tensor.removesuffix(".weight")):
                return layer
        if self.unknown is not None:
            return _raise(self.unknown(name))
        names = [layer.label for layer in self.layers]
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else \
            f"; it has {len(names)}: {', '.join(names[:5])}{' ...' if len(names) > 5 else ''}"
        return _raise(f"{self.source or self.name}: no layer named {name!r}{hint}")

    def to_dict(self) -> dict:
        return {"name": self.name, "tokens": self.tokens, "source": self.source,
                "real_weights": self.real, "macs": self.macs, "notes": list(self.notes),
                "layers": [layer.to_dict() for layer in self.layers]}


def _raise(msg: str):
    raise TernhwError(msg)
