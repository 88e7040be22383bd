"""Ternarize every linear layer of a model and collect per-layer statistics and sizes.

Nothing is lost silently: a format that cannot hold a layer (I2_S and per-channel scales, TQ and
TTQ, ...) gets no size for it, and no total for the model, with the reason under
``unsupported_formats``; a layer that ternarizes to all zeros is reported under ``warnings``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import TernhwError
from ..formats.model_io import LoadedModel
from ..formats.sizes import FORMATS, storage_bytes, unsupported_reason
from .stats import ternary_stats
from .ternarize import ABSMEAN_EPS, TernaryTensor, ternarize


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
    #: Problems that do not stop the run but change what the numbers mean (all-zero layers).
    warnings: list[str] = field(default_factory=list)

    @property
    def total_weights(self) -> int:
        return sum(tt.size for tt in self.ternary.values())

    def summary(self) -> dict:
        """The JSON document of ``ternhw quantize --json``."""
        n = self.total_weights
        unsupported = self.unsupported_formats()
        total_bytes = {f: None if f in unsupported else
                       sum(layer["bytes"][f] for layer in self.layers) for f in FORMATS}
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
            "bits_per_weight": {f: None if b is None else 8.0 * b / n
                                for f, b in total_bytes.items()} if n else {},
            "unsupported_formats": unsupported,
            "warnings": list(self.warnings),
        }

    def unsupported_formats(self) -> dict[str, str]:
        """Formats that cannot hold every layer, each with the first layer's reason: the model
        total of such a format would price a file that cannot be written, so it has none."""
        out: dict[str, str] = {}
        for f in FORMATS:
            bad = [layer for layer in self.layers if f in layer["unsupported_formats"]]
            if bad:
                more = f" (and {len(bad) - 1} more layer(s))" if len(bad) > 1 else ""
                out[f] = (f"tensor {bad[0]['name']!r}{more}: "
                          f"{bad[0]['unsupported_formats'][f]}")
        return out


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
        raise TernhwError(f"{model.source}: no linear weight matrices found"
                          + skipped_note(model))
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
        if stats["zero_fraction"] == 1.0:
            q.warnings.append(all_zero_warning(model.source, name, w, tt))
        by_fmt = {f: storage_bytes(tt, f) for f in FORMATS}
        q.layers.append({
            "name": name,
            # the model's own ternary tensors (a ternary file, the distilled MiniLM) keep theirs
            "method": tt.method if name in model.ternary else method,
            "shape": list(tt.shape),
            "size": tt.size,
            **stats,
            "bytes": by_fmt,
            "bits_per_weight": {f: None if b is None else 8.0 * b / tt.size
                                for f, b in by_fmt.items()},
            "unsupported_formats": {f: r for f in FORMATS
                                    if (r := unsupported_reason(tt, f)) is not None},
        })
    if progress:
        progress(len(names), len(names), "")
    q.extra = {k: v for k, v in model.tensors.items() if k not in q.ternary}
    return q


def unknown_layer_message(model: LoadedModel, name: str, names: list[str]) -> str:
    import difflib

    skipped = model.skipped_tensors()
    if name in skipped:
        return (f"{model.source}: tensor {name!r} is not a linear weight matrix "
                f"({skipped[name]})")
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else \
        f"; it has {len(names)}: {', '.join(names[:5])}{' ...' if len(names) > 5 else ''}"
    return f"{model.source}: no linear layer named {name!r}{hint}"


def all_zero_warning(source: str, name: str, w, tt: TernaryTensor) -> str:
    """Why a layer whose every trit is 0 deserves attention: its outputs are its bias alone,
    and a quiet ``zeros% 100`` in a table is easy to miss."""
    import numpy as np

    a = np.abs(np.asarray(w, dtype=np.float64))
    peak = float(a.max()) if a.size else 0.0
    why = ""
    if tt.method == "absmean" and 0 < float(a.mean()) < ABSMEAN_EPS:
        why = (f"; its mean |W| {float(a.mean()):g} is far below absmean's epsilon "
               f"{ABSMEAN_EPS:g}: try --method twn, or rescale the weights")
    return (f"{source}: tensor {name!r}: all {tt.size:,} weights quantized to 0 "
            f"({tt.method}, max |W| {peak:g}), so the layer outputs only its bias{why}")


def skipped_note(model: LoadedModel, limit: int = 5) -> str:
    """``"; skipped: 'w' (integer dtype int64 ...), ..."`` for the tensors that
    :meth:`LoadedModel.linear_names` passed over, so an empty result explains itself."""
    skipped = model.skipped_tensors()
    if not skipped:
        return " (the file holds no tensors)" if not model.tensors else ""
    items = [f"{n!r} ({why})" for n, why in list(skipped.items())[:limit]]
    more = f", and {len(skipped) - limit} more" if len(skipped) > limit else ""
    return "; skipped: " + ", ".join(items) + more
