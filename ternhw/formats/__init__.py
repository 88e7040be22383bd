"""Weight packing formats and model file I/O."""

from .base3 import pack_base3, packed_size_base3, unpack_base3
from .gguf_io import read_gguf, write_gguf
from .i2s import pack_i2s, packed_size_i2s, unpack_i2s
from .model_io import LoadedModel, load_model, save_ternary_npz
from .sizes import FORMATS, bits_per_weight, storage_bytes, unsupported_reason
from .trits import check_trits
from .twobit import pack_2bit, packed_size_2bit, unpack_2bit

__all__ = [
    "FORMATS",
    "LoadedModel",
    "bits_per_weight",
    "check_trits",
    "load_model",
    "pack_2bit",
    "pack_base3",
    "pack_i2s",
    "packed_size_2bit",
    "packed_size_base3",
    "packed_size_i2s",
    "read_gguf",
    "save_ternary_npz",
    "storage_bytes",
    "unpack_2bit",
    "unpack_base3",
    "unpack_i2s",
    "unsupported_reason",
    "write_gguf",
]
