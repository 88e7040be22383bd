"""Co-simulate one real-weight layer from a checkout: ``python sim/run.py [ternhw sim args]``.

Equivalent to ``ternhw sim``; defaults to the acceptance case (MiniLM's first FFN matrix, 16
tokens, default config).
"""

import sys

from ternhw.cli import main

DEFAULT = ["sim", "--config", "default", "--weights", "minilm", "--layer",
           "encoder.layer.0.intermediate.dense.weight", "--tokens", "16"]

if __name__ == "__main__":
    sys.exit(main(["sim", *sys.argv[1:]] if len(sys.argv) > 1 else DEFAULT))
