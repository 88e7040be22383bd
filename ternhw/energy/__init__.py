"""Energy model: event counts from the golden model and the schedule x cited per-action
energies, component by component.

* :func:`price_gemm` -> :class:`Breakdown`: every action of every component of the generated
  hardware (``components.py``, one class per component in the style of hwcomponents), with
  count, pJ each, total, source and flags (interpolated / extrapolated / node-scaled /
  assumption); the lines sum to the total.
* :class:`Technology`: the logic node (45 nm tables; other nodes by Stillmaker & Baas 2017) and
  the off-chip memory (``dram.yaml``: LPDDR4 default, LPDDR5, DDR4, HBM2, DDR3-horowitz); SRAM
  energies by word width and depth from CACTI, one table per node CACTI covers
  (``sram_cacti{22,32,45,65,90}.yaml``; between them interpolated, past them node-scaled:
  ``docs/energy.md``).
"""

from .account import Breakdown, Line, action_table, activity, price, price_gemm
from .components import SUBMODULES, components_for, flip_flops
from .tech import (
    DEFAULT_DRAM,
    DEFAULT_NODE_NM,
    Cost,
    Technology,
    dram_technologies,
    technology_of,
)

__all__ = ["DEFAULT_DRAM", "DEFAULT_NODE_NM", "SUBMODULES", "Breakdown", "Cost", "Line",
           "Technology", "action_table", "activity", "components_for", "dram_technologies",
           "flip_flops", "price", "price_gemm", "technology_of"]
