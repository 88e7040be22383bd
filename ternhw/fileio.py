"""Atomic file output: a reader never sees a half-written report.

Data goes to a temporary file in the destination's directory, is flushed to disk, and is then
renamed over the destination (``os.replace`` is atomic on POSIX and Windows), so an interrupted
run leaves either the old file or the new one.

:func:`check_writable_file` and :func:`check_writable_dir` let a command refuse an output path it
cannot write *before* it does minutes of work, with one message naming the path; a write that
still fails later (a full disk, a race) becomes a :class:`~ternhw.errors.TernhwError` naming the
path instead of a traceback.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from .errors import TernhwError


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``, on any
    error remove it. For writers that insist on a file name (the gguf package's writer)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        base = _nearest_existing(path.parent)
        why = (f"{base} is a file, not a directory" if base.exists() and not base.is_dir()
               else _reason(e))
        raise TernhwError(f"cannot write {path}: {why}") from None
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        yield Path(tmp)
        try:
            os.replace(tmp, path)
        except OSError as e:
            raise TernhwError(f"cannot write {path}: {_reason(e)}") from None
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], Any]) -> Path:
    """Call ``write(fileobj)`` on a temporary file, flush it to disk, then rename it to
    ``path``."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    return Path(path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    return atomic_write(path, lambda f: f.write(data))


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def _reason(e: OSError) -> str:
    """An OSError's cause in words, without the ``[Errno 13]`` prefix and the repeated path."""
    return (e.strerror or str(e)).lower()


def _nearest_existing(path: Path) -> Path:
    """``path`` itself or its closest ancestor that exists (``.`` for a bare relative name)."""
    p = path
    while not p.exists() and not p.is_symlink():
        if p.parent == p:
            break
        p = p.parent
    return p


def _probe_write(directory: Path, message: str) -> None:
    """Create and remove a file in ``directory``; refuse with ``message (reason)`` if that fails.
    A real probe, because permission bits lie: root ignores them, read-only mounts and ACLs are
    invisible to ``os.access``."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".ternhw-write-check.", dir=directory)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise TernhwError(f"{message} ({_reason(e)})") from None


def _check_creatable(path: Path, what: str) -> None:
    """Refuse ``path`` when the folders that would hold it cannot be created or written.

    Walks up to the closest existing ancestor: it must be a directory (a regular file there
    means ``mkdir`` would fail), and creating a file in it must work (:func:`_probe_write`).
    """
    base = _nearest_existing(path.parent if path.parent != path else path)
    if base.exists() and not base.is_dir():
        raise TernhwError(f"{what} {path}: cannot be created because {base} is a file, "
                          "not a directory")
    if not base.exists():
        raise TernhwError(f"{what} {path}: {base} is a broken link")
    _probe_write(base, f"{what} {path}: cannot write in {base}")


def check_writable_file(path: str | os.PathLike, what: str = "output file") -> Path:
    """Refuse early, with one line, an output *file* path that cannot be written.

    ``what`` names the option in the message (``"--json"``, ``"-o"``). An existing directory
    at ``path`` is refused (the atomic rename would fail only at the very end); an existing
    file is fine, it is replaced atomically.
    """
    path = Path(path)
    if path.is_dir():
        raise TernhwError(f"{what} {path}: is a directory; give a file name")
    _check_creatable(path, what)
    return path


def check_writable_dir(path: str | os.PathLike, what: str = "output directory") -> Path:
    """Refuse early, with one line, an output *directory* that cannot be created or written.

    An existing regular file at ``path`` is refused, so that nothing is written beside it.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise TernhwError(f"{what} {path}: is a file, not a directory")
    if path.is_dir():
        _probe_write(path, f"{what} {path}: cannot write in it")
    else:
        _check_creatable(path, what)
    return path
