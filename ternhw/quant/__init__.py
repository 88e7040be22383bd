"""Quantization front-end: ternarization, activation quantization and statistics."""

from .activations import quantize_activations
from .stats import ternary_stats
from .ternarize import GRANULARITIES, METHODS, TernaryTensor, check_weight_matrix, ternarize

__all__ = [
    "GRANULARITIES",
    "METHODS",
    "TernaryTensor",
    "check_weight_matrix",
    "quantize_activations",
    "ternarize",
    "ternary_stats",
]

