"""``ternhw sweep``: design-space exploration of the accelerator (issue 12, first slice).

A design space (a TOML file: axes over :class:`~ternhw.config.AcceleratorConfig` fields and
constraints) is expanded into points; each point is evaluated analytically — cycles and
utilization from the exact cycle model and schedule, energy per token from the energy model,
on-chip and off-chip bytes, and generic-gate area from a per-component cost model fitted on real
Yosys runs — and the non-dominated set over the chosen objectives is written with plots and an
HTML page.

Modules, one job each:

``space``      parse and validate a space file; expand it into points
``workload``   per-workload event statistics, computed once per (workload, cols)
``evaluate``   the analytic evaluation of one point
``energy``     the energy model's per-action costs per design, flip-flops in closed form
``area``       the calibrated generic-gate cost model
``calibrate``  the calibration set and the Yosys runs behind the area model
``pareto``     objectives and the non-dominated set
``runner``     local process pool or Dask cluster, per-point result cache, progress
``outputs``    results.csv / results.json / front.json, plots, HTML page
``verify``     ``--verify N``: co-simulation and generic synthesis of the best front points
``cli``        the ``ternhw sweep`` command
"""
