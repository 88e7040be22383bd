"""Bus-level words of the accelerator's streams, built from and read back into matrices.

The testbenches (Amaranth's simulator and cocotb) and any host driver use these, so the word
layouts live in one place, next to the hardware they describe.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import AcceleratorConfig
from ..formats.base3 import pack_base3, unpack_base3
from ..formats.twobit import unpack_2bit
from ..model.contract import Requant, check_operands


@dataclass
class GemmTransaction:
    """Everything one ``start`` command needs, as stream words, and how to read the results."""

    m: int
    k: int
    n: int
    act_words: list[int]
    weight_words: list[int]      # NT x T, tile-major
    bias_words: list[int]        # NT, or empty without bias
    requant: Requant | None
    resident: bool = False       # load the whole matrix and keep it for the next command
    keep_weights: bool = False   # reuse the resident matrix: no weight words are sent

    def command(self) -> dict[str, int]:
        rq = self.requant
        return {"m": self.m, "k": self.k, "n": self.n, "bias_en": int(bool(self.bias_words)),
                "resident": int(self.resident), "keep_weights": int(self.keep_weights),
                "requant_en": int(rq is not None), "relu": int(bool(rq and rq.relu)),
                "multiplier": rq.multiplier if rq else 0, "shift": rq.shift if rq else 0}


def _pack_fields(values, width: int) -> int:
    mask = (1 << width) - 1
    word = 0
    for i, v in enumerate(values):
        word |= (int(v) & mask) << (i * width)
    return word


def weight_word(cfg: AcceleratorConfig, block: np.ndarray) -> int:
    """Pack a ``rows x cols`` weight block (lane ``(r, c)`` at ``r * cols + c``)."""
    flat = np.asarray(block).reshape(-1)
    if cfg.weight_format == "2bit":
        return _pack_fields(flat + 1, 2)
    if cfg.weight_format == "base3":
        return int.from_bytes(pack_base3(flat).tobytes(), "little")
    return _pack_fields(flat, 8)


def decode_weight_word(cfg: AcceleratorConfig, word: int) -> np.ndarray:
    """The model's reading of a weight word (the inverse of :func:`weight_word`): the lane
    weights, or the formats' :class:`~ternhw.errors.FormatError` for an invalid code, which
    the design answers with ``status.error``."""
    n = cfg.rows * cfg.cols
    data = int(word).to_bytes(cfg.weight_word_bits // 8, "little")
    if cfg.weight_format == "2bit":
        return unpack_2bit(data, n)
    if cfg.weight_format == "base3":
        return unpack_base3(data, n)
    return np.frombuffer(data, dtype=np.int8).astype(np.int64)


def weight_blocks(cfg: AcceleratorConfig, w) -> np.ndarray:
    """``w`` (N x K) zero-padded to whole tiles and cut into the ``rows x cols`` blocks of its
    weight words, tile-major: ``(NT * T, rows, cols)``."""
    w = np.asarray(w)
    N, K = w.shape
    R, C = cfg.rows, cfg.cols
    T, NT = -(-K // C), -(-N // R)
    wp = np.zeros((NT * R, T * C), dtype=np.int64)
    wp[:N, :K] = w
    return wp.reshape(NT, R, T, C).transpose(0, 2, 1, 3).reshape(NT * T, R, C)


def build_transaction(cfg: AcceleratorConfig, x, w, bias=None,
                      requant: Requant | None = None, *, resident: bool = False,
                      keep_weights: bool = False) -> GemmTransaction:
    """Stream words for ``Y = X W^T + bias`` on ``cfg`` (operands validated as the model does).
    With ``keep_weights`` no weight words are sent: the command reuses the matrix that a
    previous ``resident`` command left in the weight buffer."""
    x, w, bias = check_operands(cfg, x, w, bias, requant)
    M, K = x.shape
    N = w.shape[0]
    R, C = cfg.rows, cfg.cols
    T, NT = -(-K // C), -(-N // R)
    xp = np.zeros((M, T * C), dtype=np.int64)
    xp[:, :K] = x
    acts = [_pack_fields(xp[i, t * C:(t + 1) * C], cfg.act_bits)
            for i in range(M) for t in range(T)]
    weights = [] if keep_weights else [weight_word(cfg, b) for b in weight_blocks(cfg, w)]
    biases = []
    if bias is not None:
        bp = np.zeros(NT * R, dtype=np.int64)
        bp[:N] = bias
        biases = [_pack_fields(bp[nt * R:(nt + 1) * R], cfg.acc_bits) for nt in range(NT)]
    return GemmTransaction(M, K, N, acts, weights, biases, requant, resident, keep_weights)


def result_word_count(cfg: AcceleratorConfig, m: int, n: int) -> int:
    """``o_res`` words of an ``M x N`` result: one per token and N-tile of ``rows`` outputs."""
    return -(-n // cfg.rows) * m


def decode_word(cfg: AcceleratorConfig, word: int) -> list[tuple[int, int, int]]:
    """One ``o_res`` word to ``rows`` tuples ``(value, overflow, saturated)``."""
    R, ab = cfg.rows, cfg.acc_bits
    half, mask = 1 << (ab - 1), (1 << ab) - 1
    out = []
    for r in range(R):
        v = (word >> (r * ab)) & mask
        out.append((v - (1 << ab) if v >= half else v, (word >> (R * ab + r)) & 1,
                    (word >> (R * ab + R + r)) & 1))
    return out


def decode_results(cfg: AcceleratorConfig, words: list[int], m: int, n: int):
    """Output words (tile-major, then token) to ``(values, overflow, saturated)`` ``(M, N)``."""
    R = cfg.rows
    if len(words) != result_word_count(cfg, m, n):
        raise ValueError(f"expected {result_word_count(cfg, m, n)} result words, got "
                         f"{len(words)}")
    NT = -(-n // R)
    fields = np.zeros((3, m, NT * R), dtype=np.int64)
    for idx, word in enumerate(words):
        nt, i = divmod(idx, m)
        fields[:, i, nt * R:(nt + 1) * R] = np.array(decode_word(cfg, word)).T
    values, overflow, saturated = fields[:, :, :n]
    return values, overflow.astype(bool), saturated.astype(bool)
