"""GGUF TQ1_0 / TQ2_0 files, read and written through the ``gguf`` package.

TQ1_0 (ggml type 34): 256-weight blocks of 54 bytes (base-3, 5 trits per byte plus a 4-per-byte
tail, fp16 block scale): 1.6875 bits/weight. TQ2_0 (type 35): 66-byte blocks of 2-bit codes
``q = t + 1`` plus an fp16 scale: 2.0625 bits/weight. The block scale is the block's absmax, so
the trits survive exactly and the scale is rounded to fp16.

Rows (the input dimension) must be a multiple of 256 in GGUF; ternhw pads a shorter row with zero
trits, records the true width under the key ``ternhw.cols.<tensor>``, and strips the padding on
load. A tensor must have a single scale per 256-weight block; asymmetric (TTQ) scales and groups
that are not multiples of 256 are refused with a clear error.

The block scale is fp16, so a scale above 65504 would be stored as infinity and one below the
smallest normal fp16 value (6.1e-05) as 0 or a subnormal with a large rounding error: both are
refused by name (:func:`tq_unsupported_reason`), never written. Reading refuses a TQ tensor whose
block scales are not finite.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import FormatError
from ..fileio import atomic_path
from ..quant.ternarize import TernaryTensor

BLOCK = 256
QTYPES = {"tq1_0": 34, "tq2_0": 35}
BLOCK_BYTES = {"tq1_0": 54, "tq2_0": 66}
COLS_KEY = "ternhw.cols."
#: fp16 limits of the TQ block scale: the largest finite and the smallest normal value.
FP16_MAX = float(np.finfo(np.float16).max)
FP16_MIN_NORMAL = float(np.finfo(np.float16).tiny)


def packed_size_tq(fmt: str, rows: int, cols: int) -> int:
    """Bytes of a ``rows x cols`` tensor in TQ1_0/TQ2_0, rows padded to 256."""
    return rows * -(-cols // BLOCK) * BLOCK_BYTES[fmt]


def _block_scales(tt: TernaryTensor) -> np.ndarray:
    """The scale of every weight, ``(rows, padded cols)``, the padding copying the last column
    (so a row's padding never adds a scale change to its last block)."""
    rows, cols = tt.shape
    padded = -(-cols // BLOCK) * BLOCK
    scale = np.zeros((rows, padded), dtype=np.float32)
    scale[:, :cols] = tt.expand(tt.pos_scale)
    scale[:, cols:] = scale[:, cols - 1: cols]
    return scale


def _tq_problem(tt: TernaryTensor, fmt: str) -> tuple[str, str] | None:
    """``(reason, advice)`` when ``tt`` cannot be stored exactly in ``fmt``, else None.

    One function decides for the writer and for the size report, so a report never quotes a
    TQ size for a tensor the writer would refuse.
    """
    name = fmt.upper()
    if not tt.symmetric:
        return (f"{name} stores one scale per block, but this tensor has separate positive "
                "and negative (TTQ) scales", "save it as .npz instead")
    scale = _block_scales(tt)
    rows = tt.shape[0]
    blocks = scale.reshape(rows, -1, BLOCK)
    if not (blocks == blocks[:, :, :1]).all():
        return (f"{name} needs one scale per 256-weight block, but its {tt.granularity} scales "
                f"(group size {tt.group_size}) change inside a block",
                "use granularity tensor or channel, or a group size that is a multiple of 256")
    trits = np.zeros(scale.shape, dtype=bool)
    trits[:, : tt.shape[1]] = tt.trits != 0
    live = blocks[:, :, 0][trits.reshape(rows, -1, BLOCK).any(axis=2)].astype(np.float64)
    advice = "save it as .npz (float32 scales) or rescale the weights"
    if live.size and live.max() > FP16_MAX:
        return (f"scale {live.max():g} exceeds the fp16 range of {name} (max {FP16_MAX:g})",
                advice)
    if live.size and live.min() < FP16_MIN_NORMAL:
        v = live.min()
        return (f"scale {v:g} is below the smallest normal fp16 value of {name} "
                f"({FP16_MIN_NORMAL:g}) and would be stored as {float(np.float16(v)):g}",
                advice)
    return None


def tq_unsupported_reason(tt: TernaryTensor, fmt: str) -> str | None:
    """Why ``fmt`` (``tq1_0``/``tq2_0``) cannot hold ``tt`` exactly, or None if it can."""
    problem = _tq_problem(tt, fmt)
    return None if problem is None else problem[0]


def _block_values(name: str, tt: TernaryTensor, fmt: str) -> tuple[np.ndarray, int]:
    """``trits * scale`` as float32, padded to whole blocks, after checking it is representable."""
    problem = _tq_problem(tt, fmt)
    if problem is not None:
        raise FormatError(f"tensor {name!r}: {problem[0]}; {problem[1]}")
    rows, cols = tt.shape
    scale = _block_scales(tt)
    values = np.zeros(scale.shape, dtype=np.float32)
    values[:, :cols] = tt.trits * scale[:, :cols]
    return values, cols


def write_gguf(path: str | os.PathLike, ternary: dict[str, TernaryTensor], fmt: str = "tq1_0",
               extra: dict[str, np.ndarray] | None = None, arch: str = "ternhw") -> Path:
    """Write ternary tensors as TQ1_0/TQ2_0 (and ``extra`` float tensors as F32), atomically."""
    import gguf

    if fmt not in QTYPES:
        raise FormatError(f"GGUF ternary type must be one of {', '.join(QTYPES)}, not {fmt!r}")
    qtype = gguf.GGMLQuantizationType(QTYPES[fmt])
    path = Path(path)
    try:
        prepared = {name: _block_values(name, tt, fmt) for name, tt in ternary.items()}
    except FormatError as e:
        raise FormatError(f"{path}: {e}") from None
    with atomic_path(path) as tmp:
        writer = gguf.GGUFWriter(str(tmp), arch)
        for name, (values, cols) in prepared.items():
            writer.add_uint32(COLS_KEY + name, cols)
            writer.add_tensor(name, gguf.quants.quantize(values, qtype), raw_dtype=qtype)
        for name, arr in (extra or {}).items():
            writer.add_tensor(name, np.ascontiguousarray(arr, dtype=np.float32))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
    return path


def read_gguf(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, TernaryTensor]]:
    """Read a GGUF file: ``(float tensors, ternary tensors)``.

    TQ1_0/TQ2_0 tensors come back as :class:`TernaryTensor` (exact trits, fp16 block scales
    collapsed to per-tensor or per-row scales where they agree); every other tensor type the
    ``gguf`` package can dequantize comes back as float32.
    """
    import gguf

    try:
        reader = gguf.GGUFReader(path)
        cols = {k[len(COLS_KEY):]: int(f.parts[f.data[0]][0])
                for k, f in reader.fields.items() if k.startswith(COLS_KEY)}
        floats: dict[str, np.ndarray] = {}
        ternary: dict[str, TernaryTensor] = {}
        for t in reader.tensors:
            qt = int(t.tensor_type)
            data = gguf.quants.dequantize(np.asarray(t.data), t.tensor_type)
            if qt in QTYPES.values():
                data = data.reshape(-1, data.shape[-1])[:, : cols.get(t.name, data.shape[-1])]
                if not np.isfinite(data).all():
                    raise FormatError(f"{path}: tensor {t.name!r}: {t.tensor_type.name} block "
                                      "scale is Inf or NaN; the file is damaged")
                ternary[t.name] = _from_dequantized(data)
            else:
                floats[t.name] = np.asarray(data, dtype=np.float32)
    except FormatError:
        raise
    except Exception as e:  # the gguf reader fails in many ways on a damaged file
        raise FormatError(f"{path}: {_unreadable_reason(e)}") from None
    return floats, ternary


#: ggml tensor types of bitnet.cpp's fork that the ``gguf`` package does not know.
FOREIGN_TYPES = {36: "bitnet.cpp's I2_S"}


def _unreadable_reason(e: Exception) -> str:
    """Name an unknown tensor type (bitnet.cpp's I2_S is the one users meet) instead of
    calling the file damaged."""
    import re

    m = re.search(r"(\d+)\)? is not a valid GGMLQuantizationType", str(e))
    if m:
        qt = int(m.group(1))
        what = f" ({FOREIGN_TYPES[qt]})" if qt in FOREIGN_TYPES else ""
        return (f"not a readable GGUF file: it holds a tensor of ggml type {qt}{what}, which "
                "ternhw cannot read; it reads TQ1_0, TQ2_0 and the types the gguf package "
                "dequantizes")
    return f"not a readable GGUF file ({type(e).__name__}: {e})"


def _from_dequantized(deq: np.ndarray) -> TernaryTensor:
    rows, cols = deq.shape
    trits = np.sign(deq).astype(np.int8)
    nb = -(-cols // BLOCK)
    padded = np.zeros((rows, nb * BLOCK), dtype=np.float32)
    padded[:, :cols] = np.abs(deq)
    block_scale = padded.reshape(rows, nb, BLOCK).max(axis=2)
    live = block_scale[block_scale > 0]
    if live.size == 0 or (live == live[0]).all():
        s = np.full((1, 1), live[0] if live.size else 0.0, dtype=np.float32)
        gran, gs = "tensor", cols
    else:
        row_max = block_scale.max(axis=1, keepdims=True)
        if ((block_scale == row_max) | (block_scale == 0)).all():
            s, gran, gs = row_max.astype(np.float32), "channel", cols
        else:
            s, gran, gs = block_scale.astype(np.float32), "group", BLOCK
    return TernaryTensor(trits, s, s, 0.5 * s.astype(np.float64), gs, "imported", gran)
