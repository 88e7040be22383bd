"""The data types of the bit-exact GEMM contract (``docs/semantics.md``), shared by the slow
reference, the fast path and the RTL testbench.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np

from ..config import AcceleratorConfig
from ..errors import TernhwError

#: Width of the unsigned requantization multiplier.
REQUANT_MULT_BITS = 16
#: Largest requantization right shift.
REQUANT_MAX_SHIFT = 47
OUT_BITS = 8
OUT_MIN, OUT_MAX = -(1 << (OUT_BITS - 1)), (1 << (OUT_BITS - 1)) - 1


@dataclass(frozen=True)
class Requant:
    """Requantization of an accumulator to a signed int8 output.

    ``out = clamp(round_half_away(acc * multiplier / 2**shift), lo, 127)`` with ``lo = 0`` when
    ``relu`` is set and -128 otherwise (a ReLU costs nothing in the clamp).

    Attributes
    ----------
    multiplier : int
        Unsigned, 1 to ``2**16 - 1``.
    shift : int
        Right shift, 0 to 47.
    relu : bool
        Clamp negative outputs to zero.
    """

    multiplier: int
    shift: int
    relu: bool = False

    def __post_init__(self):
        m, s = self.multiplier, self.shift
        if isinstance(m, bool) or not isinstance(m, int | np.integer) or not (
                1 <= m < (1 << REQUANT_MULT_BITS)):
            raise TernhwError(
                f"requant multiplier must be an integer in [1, {(1 << REQUANT_MULT_BITS) - 1}], "
                f"not {m!r}")
        if isinstance(s, bool) or not isinstance(s, int | np.integer) or not (
                0 <= s <= REQUANT_MAX_SHIFT):
            raise TernhwError(f"requant shift must be an integer in [0, {REQUANT_MAX_SHIFT}], "
                              f"not {s!r}")

    @classmethod
    def from_scale(cls, scale: float, relu: bool = False) -> Requant:
        """The most precise (multiplier, shift) pair for a positive real ``scale``."""
        if not math.isfinite(scale) or scale <= 0:
            raise TernhwError(f"requant scale must be a positive finite number, not {scale!r}")
        mmax = (1 << REQUANT_MULT_BITS) - 1
        shift = max(0, min(REQUANT_MAX_SHIFT, math.floor(math.log2(mmax / scale))))
        m = round(scale * (1 << shift))
        while m > mmax and shift > 0:
            shift -= 1
            m = round(scale * (1 << shift))
        if not 1 <= m <= mmax:
            raise TernhwError(f"requant scale {scale!r} is outside what a {REQUANT_MULT_BITS}-bit "
                              f"multiplier and a shift of 0-{REQUANT_MAX_SHIFT} can express")
        return cls(int(m), int(shift), relu)

    @property
    def scale(self) -> float:
        return self.multiplier / (1 << self.shift)


@dataclass
class Events:
    """Hardware action counts of one GEMM on one accelerator config (see semantics.md, Events).

    Lane events count (token, output, k) triples: ``lane_add`` (weight +1), ``lane_sub``
    (weight -1), ``lane_skip`` (weight 0: the lane is gated), ``lane_mul`` (int8 baseline: one
    multiply per active lane), ``lane_idle`` (lanes of an edge tile that have no work).
    """

    array_steps: int = 0
    lane_add: int = 0
    lane_sub: int = 0
    lane_skip: int = 0
    lane_mul: int = 0
    lane_idle: int = 0
    tree_adds: int = 0
    acc_updates: int = 0
    acc_skips: int = 0
    overflow_events: int = 0
    overflowed_outputs: int = 0
    requant_ops: int = 0
    output_saturations: int = 0
    weight_buffer_writes: int = 0
    weight_bits_loaded: int = 0
    weight_buffer_reads: int = 0
    weight_bits_read: int = 0
    act_buffer_writes: int = 0
    act_bits_loaded: int = 0
    act_buffer_reads: int = 0
    act_bits_read: int = 0
    outputs_written: int = 0
    output_bits_written: int = 0

    def to_dict(self) -> dict[str, int]:
        return {f.name: int(getattr(self, f.name)) for f in fields(self)}

    def __add__(self, other: Events) -> Events:
        return Events(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                         for f in fields(self)})


@dataclass
class GemmResult:
    """Outputs of one GEMM ``Y = X W^T (+ bias)``.

    ``acc`` holds the final accumulators (int64 holding ``acc_bits`` values); ``out`` the int8
    requantized outputs, or ``acc`` itself when no requantization was asked for. ``overflow``
    flags outputs whose accumulation overflowed at least once, ``saturated`` outputs clamped by
    requantization.
    """

    acc: np.ndarray
    out: np.ndarray
    overflow: np.ndarray
    saturated: np.ndarray
    events: Events = field(default_factory=Events)


def check_activations(cfg: AcceleratorConfig, x) -> np.ndarray:
    """``x`` as an integer ``(M, K)`` matrix within the signed ``act_bits`` range (int64, or
    unchanged when its dtype cannot hold an out-of-range value)."""
    x = np.asarray(x)
    if x.dtype.kind in "iu" and x.ndim == 2 and 0 not in x.shape and \
            np.iinfo(x.dtype).min >= cfg.act_min and np.iinfo(x.dtype).max <= cfg.act_max:
        return x                    # the dtype itself guarantees the range
    x = _as_int_matrix(x, "activations")
    _check_range(x, cfg.act_min, cfg.act_max, f"activations (act_bits = {cfg.act_bits})")
    return x


def check_weights(ternary: bool, w) -> np.ndarray:
    """``w`` as an int64 ``(N, K)`` matrix: ternary, or int8 for the baseline."""
    w = _as_int_matrix(w, "weights")
    if ternary:
        _check_range(w, -1, 1, "ternary weights")
    else:
        _check_range(w, -128, 127, "int8 weights")
    return w


def check_bias(cfg: AcceleratorConfig, bias, n: int) -> np.ndarray | None:
    """``bias`` as int64 ``(n,)`` within the accumulator range, or None."""
    if bias is None:
        return None
    bias = np.asarray(bias)
    if bias.shape != (n,):
        raise TernhwError(f"bias must have shape ({n},), not {bias.shape}")
    bias = _as_int(bias, "bias")
    _check_range(bias, cfg.acc_min, cfg.acc_max, f"bias (acc_bits = {cfg.acc_bits})")
    return bias


def check_shapes(x: np.ndarray, w_shape: tuple[int, int]) -> None:
    if x.shape[1] != w_shape[1]:
        raise TernhwError(f"shape mismatch: activations are {x.shape[0]}x{x.shape[1]} (M x K) but "
                          f"weights are {w_shape[0]}x{w_shape[1]} (N x K); K must agree")


def check_operands(cfg: AcceleratorConfig, x, w, bias=None, requant=None):
    """Validate and normalize GEMM operands; returns ``(x, w, bias)`` as int64 arrays.

    ``x`` is ``(M, K)`` with values in the signed ``act_bits`` range, ``w`` is ``(N, K)`` with
    ternary values (or int8 for the baseline), ``bias`` is ``(N,)`` within the accumulator range.
    """
    x = check_activations(cfg, x)
    w = check_weights(cfg.is_ternary, w)
    check_shapes(x, w.shape)
    bias = check_bias(cfg, bias, w.shape[0])
    check_requant(requant)
    return x, w, bias


def check_requant(requant) -> None:
    if requant is not None and not isinstance(requant, Requant):
        raise TernhwError(f"requant must be a Requant or None, not {type(requant).__name__}")


def _as_int(a: np.ndarray, what: str) -> np.ndarray:
    if a.dtype.kind in "iu":
        return a.astype(np.int64)
    if a.dtype.kind == "f":
        if not np.isfinite(a).all():
            raise TernhwError(f"{what} contain NaN or Inf")
        if (a != np.round(a)).any():
            raise TernhwError(f"{what} must be integers; found a fractional value")
        return a.astype(np.int64)
    raise TernhwError(f"{what} must be an integer array, not {a.dtype}")


def _as_int_matrix(a, what: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 2 or 0 in a.shape:
        raise TernhwError(f"{what} must be a non-empty 2-D matrix, got shape {a.shape}")
    return _as_int(a, what)


def _check_range(a: np.ndarray, lo: int, hi: int, what: str) -> None:
    bad = (a < lo) | (a > hi)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise TernhwError(f"{what}: value {int(a[idx])} at {idx} is outside [{lo}, {hi}]")
