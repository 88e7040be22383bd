"""The bit-exact golden model of the ternary MAC array (``docs/semantics.md``).

``reference`` is the slow definition; ``gemm`` the fast path that agrees with it bit for bit.
"""

from .contract import Events, GemmResult, Requant
from .gemm import WeightMatrix, gemm

__all__ = ["Events", "GemmResult", "Requant", "WeightMatrix", "gemm"]
