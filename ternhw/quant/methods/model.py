"""A quantized digits MLP as every method produces it, and its NumPy forward pass."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...weights.digits import LAYERS
from ..ternarize import TernaryTensor

#: Ternary activations: a hidden value is +-1 when ``|z| > ACT_THRESHOLD * mean|z|`` of its
#: token (TWN's 0.7 rule applied to features), else 0.
ACT_THRESHOLD = 0.7


def tensor_from_trits(trits: np.ndarray, scale, method: str) -> TernaryTensor:
    """A per-tensor (scalar ``scale``) or per-channel (``(rows,)``) symmetric TernaryTensor."""
    trits = np.asarray(trits, dtype=np.int8)
    s = np.asarray(scale, dtype=np.float32).reshape(-1, 1)
    gran = "tensor" if s.size == 1 else "channel"
    return TernaryTensor(trits, s, s, 0.5 * s.astype(np.float64), trits.shape[1], method, gran)


@dataclass
class QuantizedMLP:
    """The ternary (or mixed binary/ternary) 64-256-128-10 MLP of one method.

    ``tensors`` hold trits and scales; ``biases`` the float biases *including* any bias the
    method folds in (``extra_bias``, Tequila's); ``latent`` the float weights the trits were
    made from (for the dead-zone statistics); ``binary`` marks layers without zeros; ``norms``
    the RMSNorm gains before each layer, if the method adds them; ``act`` is ``"float"`` or
    ``"ternary"`` (hidden activations).
    """

    method: str
    training: str
    tensors: dict[str, TernaryTensor]
    biases: dict[str, np.ndarray]
    latent: dict[str, np.ndarray]
    binary: dict[str, bool] = field(default_factory=dict)
    norms: dict[str, np.ndarray] | None = None
    act: str = "float"
    extra_bias: dict[str, np.ndarray] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Logits for inputs ``x`` scaled to [0, 1] (ternary weights, float arithmetic)."""
        h = np.asarray(x, dtype=np.float64)
        for i, n in enumerate(LAYERS):
            if self.norms is not None:
                h = h / np.sqrt((h * h).mean(axis=-1, keepdims=True) + 1e-6) * self.norms[n]
            h = h @ self.tensors[n].dequantize().astype(np.float64).T + self.biases[n]
            if i < len(LAYERS) - 1:
                h = ternary_features(h) if self.act == "ternary" else np.maximum(h, 0.0)
        return h

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        return float((self.forward(x).argmax(axis=1) == y).mean())

    def layer_inputs(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """The input of every linear layer (after the RMSNorm, if any) for inputs ``x``."""
        out = {}
        h = np.asarray(x, dtype=np.float64)
        for i, n in enumerate(LAYERS):
            if self.norms is not None:
                h = h / np.sqrt((h * h).mean(axis=-1, keepdims=True) + 1e-6) * self.norms[n]
            out[n] = h
            h = h @ self.tensors[n].dequantize().astype(np.float64).T + self.biases[n]
            if i < len(LAYERS) - 1:
                h = ternary_features(h) if self.act == "ternary" else np.maximum(h, 0.0)
        return out


def ternary_features(z: np.ndarray, threshold: float = ACT_THRESHOLD) -> np.ndarray:
    """``sign(z) [|z| > threshold * mean|z|]`` per token (row)."""
    t = threshold * np.abs(z).mean(axis=-1, keepdims=True)
    return np.sign(z) * (np.abs(z) > t)


def from_params(method: str, training: str, params: dict[str, np.ndarray], *,
                binary: dict[str, bool] | None = None, **kw) -> QuantizedMLP:
    """Absmean-ternarize (or binarize, per ``binary``) the latent weights of ``params``."""
    binary = binary or {}
    tensors, biases, latent = {}, {}, {}
    for n in LAYERS:
        w = np.asarray(params[f"{n}.weight"], dtype=np.float64)
        s = np.abs(w).mean()
        if binary.get(n):
            t = np.where(w >= 0, 1, -1)
        else:
            t = np.clip(np.round(w / (s + 1e-5)), -1, 1)
        tensors[n] = tensor_from_trits(t, s, method)
        biases[n] = np.asarray(params[f"{n}.bias"], dtype=np.float64)
        latent[n] = w
    return QuantizedMLP(method, training, tensors, biases, latent,
                        {n: bool(binary.get(n)) for n in LAYERS}, **kw)
