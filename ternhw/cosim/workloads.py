"""Co-simulation cases from the workload definition (``ternhw.workload``): the digits MLP layer
by layer, MiniLM linear layers with the activations ``ternhw infer minilm`` feeds them, any
linear layer of a model file, or any layer of a TOML / SCALE-Sim shape list.

A layer's cases come from the same :class:`~ternhw.workload.Layer` the report prices: its
weights, and its operands (:meth:`~ternhw.workload.Layer.operands`: real activations where the
workload has them, seeded random ones otherwise, said in the note). It runs as the commands of
its schedule (:func:`~ternhw.workload.layer_schedule`): batches of tokens that fit the
activation buffer, each its own case, the first loading a matrix that fits the weight buffer
as resident and the rest reusing it; a matrix that does not fit may run n-blocked, block of
output columns by block, each case then holding its block's rows of ``W`` and of the bias.
"""

from __future__ import annotations

import numpy as np

from ..config import AcceleratorConfig
from ..formats.model_io import LoadedModel
from ..model.schedule import GemmSchedule, schedule_gemm
from ..workload import (
    Layer,
    Operands,
    Workload,
    layer_schedule,
    minilm_activations,
    model_workload,
)
from .runner import CosimCase

__all__ = ["DEFAULT_MINILM_LAYER", "digits_cases", "layer_cases", "matrix_cases",
           "minilm_activations", "workload_cases"]

DEFAULT_MINILM_LAYER = "encoder.layer.0.intermediate.dense.weight"


def _cases(name: str, plan: GemmSchedule, x, w, bias=None, requant=None,
           **handshake) -> list[CosimCase]:
    """One case per command of ``plan``: its tokens (rows of ``x``) and its output columns
    (rows of ``w`` and of the bias, so the expected outputs are the block's columns)."""
    cases = []
    for cmd in plan.commands:
        s, e = cmd.token_start, cmd.token_stop
        n0, n1 = cmd.n_start, cmd.n_stop
        label = name if len(plan.commands) == 1 else f"{name}[{s}:{e}]"
        if plan.blocks > 1:
            label = f"{name}[{s}:{e}, {n0}:{n1}]"
        whole = n0 == 0 and n1 == plan.n
        cases.append(CosimCase(label, x[s:e], w if whole else w[n0:n1],
                               bias if whole or bias is None else bias[n0:n1], requant,
                               resident=cmd.resident, keep_weights=cmd.keep_weights,
                               **handshake))
    return cases


def _batched(cfg: AcceleratorConfig, name: str, x, w, bias=None, requant=None,
             **handshake) -> list[CosimCase]:
    """Cases of raw operands (no workload layer), split as the schedule splits them."""
    x = np.asarray(x)
    plan = schedule_gemm(cfg, x.shape[0], x.shape[1], np.shape(w)[0], bias=bias is not None)
    return _cases(name, plan, x, w, bias, requant, **handshake)


def layer_cases(cfg: AcceleratorConfig, layer: Layer, tokens: int | None = None, *,
                seed: int = 0, operands: Operands | None = None,
                **handshake) -> tuple[list[CosimCase], str]:
    """``(cases, note)``: the commands of ``tokens`` tokens of ``layer`` (default: the
    workload's choice, e.g. all 359 digits images, else at most 16), scheduled by
    :func:`layer_schedule`, so with ``tokens == layer.m`` they are the report's commands.
    ``operands``: the layer's operands when the caller has them already (``tokens`` is then
    their length)."""
    ops = operands or layer.operands(cfg, tokens, seed=seed)
    plan = layer_schedule(cfg, layer, m=len(ops.x))
    return _cases(layer.label, plan, ops.x, ops.w, ops.bias, ops.requant, seed=seed,
                  **handshake), ops.note


def workload_cases(cfg: AcceleratorConfig, workload: Workload, layer: str | None = None,
                   tokens: int | None = None, *, seed: int = 0,
                   **handshake) -> tuple[list[CosimCase], str]:
    """Cases of one layer of ``workload`` (by name), or of every layer when ``layer`` is
    None; the note is the first layer's (they share their source of activations)."""
    chosen = [workload.find(layer)] if layer is not None else workload.layers
    cases, notes = [], []
    for lay in chosen:
        c, note = layer_cases(cfg, lay, tokens, seed=seed, **handshake)
        cases += c
        notes.append(note)
    return cases, notes[0]


def digits_cases(cfg: AcceleratorConfig, model: LoadedModel, tokens: int | None = None,
                 layer: str | None = None, **handshake) -> list[CosimCase]:
    """The MLP's three layers on the held-out images, each fed the previous layer's int8
    outputs, with their integer biases and requantization (``ternhw infer digits``)."""
    return workload_cases(cfg, model_workload(model), layer, tokens, **handshake)[0]


def matrix_cases(cfg: AcceleratorConfig, model: LoadedModel, layer: str | None, tokens: int,
                 *, seed: int = 0, **handshake) -> tuple[list[CosimCase], str]:
    """One linear layer of ``model`` (default: MiniLM's first FFN, else the first layer);
    MiniLM layers get their real activations, other files seeded random activations (said in
    the returned note)."""
    w = model_workload(model, seq_len=tokens, option="--tokens")
    if layer is None:
        names = [lay.label for lay in w.layers]
        layer = DEFAULT_MINILM_LAYER if DEFAULT_MINILM_LAYER in names else names[0]
    return layer_cases(cfg, w.find(layer), tokens, seed=seed, **handshake)
