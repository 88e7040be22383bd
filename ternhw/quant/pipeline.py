"""Ternarize every linear layer of a model and collect per-layer statistics and sizes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import TernhwError
from ..formats.model_io import LoadedModel
from ..formats.sizes import FORMATS, storage_bytes
from .stats import ternary_stats
from .ternarize import TernaryTensor, ternarize


@dataclass
class QuantizedModel:
    """The result of :func:`quantize_model`."""

    source: str
    method: str
    granularity: str
    group_size: int
    ternary: dict[str, TernaryTensor]
    layers: list[dict] = field(default_factory=list)
    #: Float tensors that are not linear weights (biases, norms, embeddings), kept for export.
    extra: dict = field(default_factory=dict)

    @property
    def total_weights(self) -> int:
        return sum(tt.size for tt in self.ternary.values())

    def summary(self) -> dict:
        """The JSON document of ``ternhw quantize --json``."""
        n = self.total_weights
        total_bytes = {f: sum(layer["bytes"][f] for layer in self.layers) for f in FORMATS}
        zeros = sum(layer["zero_fraction"] * layer["size"] for layer in self.layers)
        return {
            "source": self.source,
            "method": self.method,
            "granularity": self.granularity,
            "group_size": self.group_size if self.granularity == "group" else None,
            "layers": self.layers,
            "total_weights": n,
            "zero_fraction": zeros / n if n else 0.0,
            "bytes": total_bytes,
            "bits_per_weight": {f: 8.0 * b / n for f, b in total_bytes.items()} if n else {},
        }


def quantize_model(model: LoadedModel, method: str = "absmean", granularity: str = "tensor",
                   group_size: int = 128, layers: list[str] | None = None,
                   progress: Callable[[int, int, str], None] | None = None) -> QuantizedModel:
    """Ternarize the linear layers of ``model`` (all, or those named in ``layers``).

    Tensors that are already ternary (from a TQ GGUF or a ternary ``.npz``) are kept as they are
    and their statistics are taken against their own dequantized values.
    """
    names = model.linear_names()
    if layers:
        unknown = [n for n in layers if n not in names]
        if unknown:
            raise TernhwError(unknown_layer_message(model, unknown[0], names))
        names = [n for n in names if n in layers]
    if not names:
        raise TernhwError(f"{model.source}: no linear weight matrices found")
    q = QuantizedModel(model.source, method, granularity, group_size, {})
    for i, name in enumerate(names):
        if progress:
            progress(i, len(names), name)
        if name in model.ternary:
            tt = model.ternary[name]
            w = tt.dequantize()
        else:
            w = model.tensors[name]
            try:
                tt = ternarize(w, method, granularity, group_size, name=name)
            except TernhwError as e:
                raise TernhwError(f"{model.source}: {e}") from None
        q.ternary[name] = tt
        stats = ternary_stats(w, tt)
        by_fmt = {f: storage_bytes(tt, f) for f in FORMATS}
        q.layers.append({
            "name": name,
            "shape": list(tt.shape),
            "size": tt.size,
            **stats,
            "bytes": by_fmt,
            "bits_per_weight": {f: 8.0 * b / tt.size for f, b in by_fmt.items()},
        })
    if progress:
        progress(len(names), len(names), "")
    q.extra = {k: v for k, v in model.tensors.items() if k not in q.ternary}
    return q


def unknown_layer_message(model: LoadedModel, name: str, names: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else \
        f"; it has {len(names)}: {', '.join(names[:5])}{' ...' if len(names) > 5 else ''}"
    return f"{model.source}: no linear layer named {name!r}{hint}"
