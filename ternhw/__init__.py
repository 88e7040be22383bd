"""ternhw: design and evaluate ternary-weight ({-1, 0, +1}) neural-network accelerators."""

from .config import AcceleratorConfig, load_config
from .errors import ConfigError, FormatError, TernhwError, ToolMissingError

__version__ = "0.1.0"

__all__ = [
    "AcceleratorConfig",
    "ConfigError",
    "FormatError",
    "TernhwError",
    "ToolMissingError",
    "load_config",
    "__version__",
]
