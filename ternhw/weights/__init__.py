"""Built-in real weights: the ternary digits MLP and all-MiniLM-L6-v2."""

from .sources import BUILTIN_SOURCES, load_source, minilm_dir

__all__ = ["BUILTIN_SOURCES", "load_source", "minilm_dir"]
