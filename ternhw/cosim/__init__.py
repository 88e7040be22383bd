"""cocotb co-simulation of the generated Verilog against ``ternhw.model``.

``bfm`` holds the reusable testbench parts (stream driver, result monitor with back-pressure,
transaction-level model, in-order scoreboard); ``tb_gemm`` is the cocotb test module that wires
them; ``runner`` builds the Verilog with Verilator (or Icarus) through cocotb's Python runner,
runs a job of GEMMs and reads the results back.
"""
