"""The one exception type users see.

Every error that is the user's to fix (a bad file, a bad value, a missing tool) is raised as a
:class:`TernhwError` with a message that names the thing at fault. The command-line entry point
prints that message on one line and exits with status 2, never a traceback.
"""


class TernhwError(Exception):
    """An error caused by user input or the environment, with a message naming its cause."""


class ConfigError(TernhwError, ValueError):
    """An invalid accelerator configuration value or file."""


class FormatError(TernhwError, ValueError):
    """A malformed, truncated or inconsistent weight file or packed buffer."""


class ToolMissingError(TernhwError, RuntimeError):
    """A required external tool or package is not installed."""
