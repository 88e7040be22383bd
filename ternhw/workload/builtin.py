"""Built-in projected workloads: model shapes without shipped weights.

BitNet b1.58 2B4T (arXiv 2504.12285) is the model ternary accelerators are built for, but its
weights do not ship with ternhw: its seven linear shapes per block are modelled with synthetic
trits (a stated zero fraction, seeded per matrix) and labelled projected.
"""

from __future__ import annotations

from ..errors import TernhwError
from .layer import DEFAULT_ZERO_FRACTION, Layer, Workload, check_dim

#: BitNet b1.58 2B4T (arXiv 2504.12285): hidden 2560, FFN 6912, 30 layers, 20 heads of 128,
#: 5 KV heads; the seven linear layers of one transformer block, (name, K, N).
BITNET_2B_BLOCK = (("q_proj", 2560, 2560), ("k_proj", 2560, 640), ("v_proj", 2560, 640),
                   ("o_proj", 2560, 2560), ("gate_proj", 2560, 6912),
                   ("up_proj", 2560, 6912), ("down_proj", 6912, 2560))
BITNET_2B_LAYERS = 30
#: BitNet b1.58 2B4T's context length (its ``max_position_embeddings``).
BITNET_2B_POSITIONS = 4096


def bitnet_2b_layers(m: int, zero_fraction: float = DEFAULT_ZERO_FRACTION) -> list[Layer]:
    """The seven GEMMs of one BitNet b1.58 2B block over ``m`` tokens, each counted 30 times;
    matrix ``i`` draws its trits with seed ``i``."""
    return [Layer(name, m, k, n, count=BITNET_2B_LAYERS, zero_fraction=zero_fraction, seed=i,
                  where=f"bitnet-2b: layer {name!r}")
            for i, (name, k, n) in enumerate(BITNET_2B_BLOCK)]


def bitnet_2b(seq_len: int = 1, batch: int = 1, *, prefill: bool = False,
              zero_fraction: float = DEFAULT_ZERO_FRACTION) -> Workload:
    """BitNet b1.58 2B, projected: decode (one new token per sequence: ``M = batch``) or
    prefill (``M = seq_len x batch``, at most the model's 4096 positions)."""
    seq_len, batch = check_dim(seq_len, "--seq-len"), check_dim(batch, "--batch")
    if seq_len > BITNET_2B_POSITIONS:
        raise TernhwError(f"bitnet-2b: --seq-len {seq_len} is beyond the model's "
                          f"{BITNET_2B_POSITIONS} positions")
    m = seq_len * batch if prefill else batch
    what = f"prefill ({seq_len} tokens" if prefill else "decode (1 token"
    what += f", batch {batch}, projected)" if batch > 1 else ", projected)"
    return Workload(f"BitNet b1.58 2B {what}", bitnet_2b_layers(m, zero_fraction), m,
                    "bitnet-2b",
                    [f"projected: BitNet b1.58 2B4T shapes with synthetic trits, zero fraction "
                     f"{zero_fraction:g}; no activations (co-simulation draws seeded random "
                     "ones)"])


def bitnet_layers(cfg, m: int, zero_fraction: float) -> list[Layer]:
    """One BitNet b1.58 2B forward pass over ``m`` tokens (projected shapes). ``cfg`` is
    accepted for the former signature: a layer now holds its trits and gives each config its
    own view (:meth:`Layer.weights_on`)."""
    return bitnet_2b_layers(m, zero_fraction)
