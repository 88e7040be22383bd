"""Workload profiles: what the sweep needs to know about a workload, computed once.

Evaluating a design point must not re-run the golden model. Everything the cycle, traffic and
energy models need from the *weights* of a layer is four numbers per layer instance — the
counts of +1, -1 and 0 weights, and the number of all-zero ``(row, cols-chunk)`` pairs (the
accumulator updates a ternary array skips), which depends only on the array's ``cols``. Those
are computed here once per workload, and the chunk counts once per ``cols`` value of the space;
a point then needs only arithmetic and the (cached) schedule of each layer *shape*.

Layers of the same shape and role are merged into one :class:`LayerGroup` whose weight counts
are the sums over its members (event counts are linear in them), so MiniLM's 36 encoder
matrices become 3 groups and a point costs 3 schedule look-ups.

The layers come from the one workload definition the report and the co-simulation use
(``ternhw.workload.load_workload``: digits, MiniLM and model files, the projected BitNet b1.58
2B shapes, TOML and SCALE-Sim shape lists); this module only reduces them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from ..errors import TernhwError


@dataclass
class LayerGroup:
    """Layers of one shape: ``instances`` GEMMs of ``m x k x n`` (per inference).

    ``pos``, ``neg``, ``zero`` are summed over the instances; ``zero_chunks[cols]`` likewise."""

    key: str
    m: int
    k: int
    n: int
    instances: int
    requant: bool
    bias: bool
    pos: int
    neg: int
    zero: int
    zero_chunks: dict[int, int] = field(default_factory=dict)

    @property
    def macs(self) -> int:
        return self.m * self.k * self.n * self.instances


@dataclass
class WorkloadProfile:
    """A workload reduced to its layer groups and weight statistics (a few kB, picklable, sent
    to every worker)."""

    name: str
    tokens: int
    groups: list[LayerGroup]
    real_weights: bool

    def fingerprint(self) -> str:
        """SHA-256 of the profile's content: part of every cached point's key. The zero-chunk
        counts are left out: they follow from the weights (which the +1/-1/0 counts and shapes
        identify) and depend on which ``cols`` the space holds, which must not invalidate the
        cache when an axis grows."""
        d = asdict(self)
        for g in d["groups"]:
            g.pop("zero_chunks")
        doc = json.dumps(d, sort_keys=True, default=str)
        return hashlib.sha256(doc.encode()).hexdigest()[:16]

    @property
    def macs(self) -> int:
        return sum(g.macs for g in self.groups)


def _layers(spec: str, seq_len: int):
    """``(label, layers, tokens, real)`` of the workload ``spec`` names."""
    from ..workload import load_workload

    w = load_workload(spec, seq_len=seq_len)
    return w.name, w.layers, w.tokens, w.real


def build_profile(spec: str, cols_values, *, seq_len: int = 128) -> WorkloadProfile:
    """The profile of workload ``spec`` (``minilm``, ``digits``, ``bitnet-2b`` or a model
    file), with zero-chunk counts for every array width in ``cols_values``."""
    if not isinstance(seq_len, int) or seq_len < 1:
        raise TernhwError(f"--seq-len must be a positive integer, not {seq_len!r}")
    label, layers, tokens, real = _layers(spec, seq_len)
    groups: dict[tuple, LayerGroup] = {}
    for layer in layers:
        sig = (layer.m, layer.k, layer.n, layer.requant, layer.bias)
        pos, neg, zero = layer.weights.counts()
        c = layer.count
        g = groups.get(sig)
        if g is None:
            g = groups[sig] = LayerGroup(f"{layer.m}x{layer.k}x{layer.n}", *sig[:3], 0,
                                         layer.requant, layer.bias, 0, 0, 0)
        g.instances += c
        g.pos, g.neg, g.zero = g.pos + c * pos, g.neg + c * neg, g.zero + c * zero
        for cols in sorted(set(cols_values)):
            g.zero_chunks[cols] = g.zero_chunks.get(cols, 0) + c * layer.weights.zero_chunks(
                cols)
    return WorkloadProfile(label, tokens, list(groups.values()), real)
