"""A minimal progress line on stderr for long runs (redrawn in place on a terminal)."""

from __future__ import annotations

import sys
import time


class Progress:
    """``Progress(total, "quantize")``; call ``update(done, note)``; ``close()`` at the end.

    On a terminal the line is redrawn in place; otherwise (CI logs, pipes) a line is printed at
    most every ``interval`` seconds, so short runs print nothing and logs stay short.
    """

    def __init__(self, total: int, label: str, *, stream=None, interval: float = 5.0,
                 enabled: bool = True):
        self.total = max(int(total), 1)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval
        self.enabled = enabled
        self.start = time.monotonic()
        self._last = self.start

    def update(self, done: int, note: str = "") -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not self.tty and now - self._last < self.interval:
            return
        self._last = now
        frac = min(done / self.total, 1.0)
        width = 24
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        elapsed = now - self.start
        eta = f" eta {elapsed / frac - elapsed:5.0f}s" if 0 < frac < 1 else ""
        line = f"{self.label} [{bar}] {done}/{self.total} {elapsed:5.1f}s{eta} {note}"
        if self.tty:
            self.stream.write("\r" + line[:120].ljust(120))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def restart(self) -> None:
        """Start the clock again: the work measured begins now (e.g. after a build or after
        preparing stimulus), so the elapsed time and the ETA count only that work."""
        self.start = self._last = time.monotonic()

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()
