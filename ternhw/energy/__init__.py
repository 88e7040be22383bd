"""Energy model: event counts from the golden model x per-action energies.

One class per component in the style of Accelergy/hwcomponents plug-ins: each has an action
method returning picojoules, built from a cited per-action table (``horowitz45.yaml`` by
default; a user YAML with the same keys replaces it) with explicit width and size scaling.
"""

from .model import EnergyBreakdown, EnergyTable, energy_of, load_table

__all__ = ["EnergyBreakdown", "EnergyTable", "energy_of", "load_table"]
