"""Model files in and out: safetensors, ``.npz`` and GGUF.

:func:`load_model` returns a :class:`LoadedModel`: float tensors plus, for files that already
hold ternary weights (GGUF TQ1_0/TQ2_0 or a ternary ``.npz`` written by :func:`save_ternary_npz`),
their :class:`TernaryTensor` objects. Any damage to a file becomes one :class:`FormatError`
naming the file (and the tensor, where one is at fault).
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import FormatError
from ..fileio import atomic_write
from ..quant.ternarize import TernaryTensor
from .gguf_io import read_gguf
from .trits import check_trits

NPZ_META_KEY = "__ternhw__"
NPZ_FORMAT = "ternhw-ternary-npz"
SUFFIXES = (".safetensors", ".npz", ".gguf")


@dataclass
class LoadedModel:
    """Tensors read from one model file (or a built-in source)."""

    source: str
    tensors: dict[str, np.ndarray]
    ternary: dict[str, TernaryTensor] = field(default_factory=dict)
    #: Float parameters trained together with the ternary weights (a distilled model's biases
    #: and LayerNorms): the ternary pipeline uses them in place of the same-named ``tensors``,
    #: which stay the float checkpoint's so the float reference is the original model.
    ternary_floats: dict[str, np.ndarray] = field(default_factory=dict)

    def linear_names(self) -> list[str]:
        """Names of the linear-layer weight matrices, in file order.

        Ternary tensors always count. A float tensor counts when it is 2-D, floating point, its
        name ends in ``weight``, and it is not an embedding table or a normalization weight;
        :meth:`skipped_tensors` says why each other tensor does not.
        """
        names = list(self.ternary)
        names += [n for n, t in self.tensors.items()
                  if n not in self.ternary and not _not_linear_reasons(n, t)]
        return names

    def skipped_tensors(self) -> dict[str, str]:
        """``{name: why it is not a linear weight}`` for every non-ternary tensor left out of
        :meth:`linear_names` (an integer matrix is not quantized: its scale lives elsewhere)."""
        out = {}
        for name, t in self.tensors.items():
            reasons = _not_linear_reasons(name, t)
            if reasons and name not in self.ternary:
                out[name] = "; ".join(reasons)
        return out


def _not_linear_reasons(name: str, t: np.ndarray) -> list[str]:
    """Why tensor ``name`` is not a linear weight matrix (empty if it is one)."""
    lname = name.lower()
    reasons = []
    if t.ndim != 2:
        reasons.append(f"{t.ndim}-D, shape {tuple(t.shape)}")
    if not np.issubdtype(t.dtype, np.floating):
        kind = "integer" if np.issubdtype(t.dtype, np.integer) else "non-float"
        reasons.append(f"{kind} dtype {t.dtype}, not floating point")
    if not lname.endswith("weight"):
        reasons.append("name does not end in 'weight'")
    elif "embed" in lname:
        reasons.append("an embedding table")
    elif "norm" in lname:
        reasons.append("a normalization weight")
    return reasons


def load_model(path: str | os.PathLike) -> LoadedModel:
    """Read a ``.safetensors``, ``.npz`` or ``.gguf`` model file."""
    p = Path(path)
    if p.is_dir():
        raise FormatError(f"model file {str(p)!r} is a directory, not a file")
    if not p.is_file():
        raise FormatError(f"model file {str(p)!r} does not exist")
    suffix = p.suffix.lower()
    if suffix == ".safetensors":
        return LoadedModel(str(p), _load_safetensors(p))
    if suffix == ".npz":
        return _load_npz(p)
    if suffix == ".gguf":
        floats, ternary = read_gguf(p)
        return LoadedModel(str(p), floats, ternary)
    raise FormatError(
        f"{p}: unknown model file type {p.suffix!r}; expected one of {', '.join(SUFFIXES)}")


def _load_safetensors(p: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    try:
        return dict(load_file(str(p)))
    except Exception as e:  # SafetensorError, or a numpy error on an unsupported dtype
        raise FormatError(f"{p}: not a readable safetensors file ({e})") from None


def _load_npz(p: Path) -> LoadedModel:
    """Read an ``.npz`` without ever unpickling: ``np.load`` falls back to pickle for anything
    that is not a zip, and its error then suggests ``allow_pickle``, which a user must not
    follow for a model file; ternhw says what is wrong instead."""
    if not zipfile.is_zipfile(p):
        raise FormatError(f"{p}: not a readable .npz file: not a valid .npz (zip archive of "
                          ".npy arrays); it is truncated or another kind of file")
    arrays = {}
    try:
        with np.load(p, allow_pickle=False) as z:
            for k in z.files:
                arrays[k] = _npz_array(p, z, k)
    except FormatError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as e:
        raise FormatError(f"{p}: not a readable .npz file ({e})") from None
    if NPZ_META_KEY not in arrays:
        return LoadedModel(str(p), arrays)
    try:
        meta = json.loads(arrays.pop(NPZ_META_KEY).tobytes().decode("utf-8"))
        entries = meta["tensors"]
        if meta.get("format") != NPZ_FORMAT:
            raise ValueError(f"format is {meta.get('format')!r}")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise FormatError(f"{p}: damaged ternhw metadata ({e})") from None
    ternary = {}
    for name, info in entries.items():
        parts = {}
        for part in ("trits", "pos_scale", "neg_scale", "threshold"):
            key = f"{name}.{part}"
            if key not in arrays:
                raise FormatError(f"{p}: tensor {name!r} is missing its {part!r} array")
            parts[part] = arrays.pop(key)
        trits = check_trits(parts["trits"], f"{p}: tensor {name!r}")
        if trits.ndim != 2:
            raise FormatError(f"{p}: tensor {name!r}: trits must be 2-D, got {trits.shape}")
        gs = int(info["group_size"])
        n_groups = -(-trits.shape[1] // gs) if gs > 0 else -1
        for part in ("pos_scale", "neg_scale", "threshold"):
            a = parts[part]
            if a.ndim != 2 or a.shape[0] not in (1, trits.shape[0]) or a.shape[1] != n_groups:
                raise FormatError(
                    f"{p}: tensor {name!r}: {part} has shape {a.shape}, which does not fit "
                    f"trits of shape {trits.shape} with group size {gs}")
            if not np.isfinite(a).all():
                raise FormatError(f"{p}: tensor {name!r}: {part} contains NaN or Inf")
        ternary[name] = TernaryTensor(
            trits, parts["pos_scale"].astype(np.float32), parts["neg_scale"].astype(np.float32),
            parts["threshold"].astype(np.float64), gs, info["method"], info["granularity"])
    return LoadedModel(str(p), arrays, ternary)


def _npz_array(p: Path, z, key: str) -> np.ndarray:
    try:
        return z[key]
    except ValueError as e:
        if "allow_pickle" in str(e) or "pickled" in str(e):
            raise FormatError(f"{p}: not a readable .npz file: array {key!r} holds Python "
                              "objects (pickled data), which ternhw never loads") from None
        raise FormatError(f"{p}: not a readable .npz file: array {key!r}: {e}") from None


def save_ternary_npz(path: str | os.PathLike, ternary: dict[str, TernaryTensor],
                     extra: dict[str, np.ndarray] | None = None) -> Path:
    """Save ternary tensors (and ``extra`` float tensors) to a compressed ``.npz``, atomically."""
    arrays: dict[str, np.ndarray] = dict(extra or {})
    meta = {"format": NPZ_FORMAT, "version": 1, "tensors": {}}
    for name, tt in ternary.items():
        arrays[f"{name}.trits"] = tt.trits
        arrays[f"{name}.pos_scale"] = tt.pos_scale
        arrays[f"{name}.neg_scale"] = tt.neg_scale
        arrays[f"{name}.threshold"] = tt.threshold
        meta["tensors"][name] = {"method": tt.method, "granularity": tt.granularity,
                                 "group_size": tt.group_size}
    arrays[NPZ_META_KEY] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    return atomic_write(path, lambda f: np.savez_compressed(f, **arrays))
