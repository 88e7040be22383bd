"""A linear layer on the ternary integer pipeline, as the accelerator runs it.

``y = (Xq W_t^T) * s_x * s_w + b``: activations quantized per token to ``act_bits``
(absmax), the integer GEMM done by the bit-exact golden model, then rescaled to float.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..config import AcceleratorConfig
from ..errors import TernhwError
from ..model.contract import Events
from ..model.gemm import WeightMatrix, gemm
from ..quant.activations import quantize_activations
from ..quant.ternarize import TernaryTensor


@dataclass
class TernaryLinear:
    """One ternarized ``nn.Linear`` with its float bias; counts the events of every call."""

    name: str
    weights: WeightMatrix
    scale: np.ndarray          # (N,) or (1,): per output channel or per tensor
    bias: np.ndarray | None
    events: Events = field(default_factory=Events)

    @classmethod
    def from_ternary(cls, name: str, tt: TernaryTensor, bias: np.ndarray | None):
        if not tt.symmetric or tt.pos_scale.shape[1] != 1:
            raise TernhwError(
                f"layer {name!r}: the integer pipeline needs one symmetric scale per tensor or "
                f"per output channel, not {tt.method}/{tt.granularity} scales")
        return cls(name, WeightMatrix(tt.trits), tt.pos_scale[:, 0].astype(np.float64),
                   None if bias is None else np.asarray(bias, dtype=np.float64))

    def __call__(self, cfg: AcceleratorConfig, x: np.ndarray) -> np.ndarray:
        xq, sx = quantize_activations(x, cfg.act_bits)
        r = gemm(cfg, xq, self.weights)
        self.events = self.events + r.events
        y = r.acc * sx[:, None] * self.scale[None, :]
        return y + self.bias if self.bias is not None else y
