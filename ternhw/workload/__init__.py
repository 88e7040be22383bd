"""One workload definition for every part of ternhw: layers, shapes, weights, activations.

A :class:`Workload` is a list of :class:`Layer` GEMMs (``m x k x n``, counted ``count``
times). The report prices its layers, the sweep reduces them to weight statistics, and the
co-simulation runs their operands (:meth:`Layer.operands`); all three schedule a layer with
:func:`layer_schedule`, so they agree on its shape and its commands by construction.

Where workloads come from (one module each):

* :mod:`.models`: any model file ternhw reads, its linear layers as GEMMs of
  ``seq_len x batch`` tokens (digits: ``batch`` images), refusing a ``seq_len`` beyond the
  model's positions (MiniLM: 512);
* :mod:`.builtin`: BitNet b1.58 2B shapes, projected (synthetic trits);
* :mod:`.shapes`: a TOML list of GEMM shapes, or SCALE-Sim's topology CSV (GEMM format, or
  convolutions by im2col);
* :mod:`.activations`: the real activations of the shipped models;
* :mod:`.load`: a ``--workload`` argument resolved to one of the above.

Layers without real weights get synthetic trits with a stated zero fraction and are labelled
projected.
"""

from .activations import DigitsFeed, MiniLMFeed, minilm_activations
from .builtin import (
    BITNET_2B_BLOCK,
    BITNET_2B_LAYERS,
    BITNET_2B_POSITIONS,
    bitnet_2b,
    bitnet_2b_layers,
    bitnet_layers,
)
from .layer import (
    DEFAULT_SIM_TOKENS,
    DEFAULT_ZERO_FRACTION,
    Layer,
    Operands,
    Workload,
    synthetic_trits,
    weights_for,
)
from .load import BUILTIN_WORKLOADS, load_shapes, load_workload, shipped_workloads
from .models import check_seq_len, model_workload, positions, real_workload, unpriced_work
from .plan import (
    MEASURED,
    STATISTICS,
    layer_cycles,
    layer_events,
    layer_schedule,
    measured_events,
)
from .shapes import load_scalesim_csv, load_toml

__all__ = [
    "BITNET_2B_BLOCK", "BITNET_2B_LAYERS", "BITNET_2B_POSITIONS", "BUILTIN_WORKLOADS",
    "DEFAULT_SIM_TOKENS", "DEFAULT_ZERO_FRACTION", "DigitsFeed", "Layer", "MiniLMFeed",
    "Operands", "Workload", "bitnet_2b", "bitnet_2b_layers", "bitnet_layers", "check_seq_len",
    "MEASURED", "STATISTICS", "layer_cycles", "layer_events", "layer_schedule",
    "measured_events", "load_scalesim_csv", "load_shapes",
    "load_toml", "load_workload", "minilm_activations", "model_workload", "positions",
    "real_workload", "shipped_workloads", "unpriced_work", "synthetic_trits", "weights_for",
]
