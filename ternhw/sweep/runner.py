"""Running a sweep: where the points are evaluated, and the per-point result cache.

Points are evaluated in chunks (a few hundred points: the per-task overhead of a process pool
or a Dask cluster is milliseconds, a point tens of microseconds) by :func:`evaluate_chunk`,
which is all a worker runs. Locally the chunks go to a ``ProcessPoolExecutor`` over all cores;
with ``scheduler`` to an existing Dask ``distributed`` cluster (``Client(address)``), the
:class:`Context` scattered to every worker once. Both return the same rows: evaluation is a pure
function of the point and the context.

Results are cached per point under ``$TERNHW_CACHE_DIR/sweep`` (default
``~/.cache/ternhw/sweep``, the convention of ``ternhw.synth.cache_dir``), in one append-only
JSON-lines file per context (workload profile, area model, energy data files, evaluator
version; a point's technology is part of its config),
each line ``{"k": point hash, "r": result}``. The driver appends a chunk's lines as soon as it
finishes, so an interrupted sweep resumes where it stopped; a torn last line (a kill during the
write) is ignored on reading. Constraints are applied after the cache, so changing them never
re-evaluates a point.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ..config import AcceleratorConfig
from ..errors import ConfigError, TernhwError
from ..progress import Progress
from .area import AreaModel
from .evaluate import EVALUATOR_VERSION, evaluate
from .space import Space
from .workload import WorkloadProfile

#: how long ``--scheduler`` waits for the scheduler to answer
CONNECT_TIMEOUT = "10s"


@dataclass(frozen=True)
class Context:
    """Everything a worker needs besides the points (a few kB; pickled once per worker)."""

    space: Space
    profile: WorkloadProfile
    area: AreaModel

    def fingerprint(self) -> str:
        doc = (f"v{EVALUATOR_VERSION}|{self.profile.fingerprint()}|{self.area.fingerprint()}|"
               f"{energy_data_fingerprint()}")
        return hashlib.sha256(doc.encode()).hexdigest()[:24]


def energy_data_fingerprint() -> str:
    """SHA-256 of the energy model's data files (``ternhw/energy/*.yaml``): a changed table
    must not reuse points priced with the old one."""
    from importlib import resources

    h = hashlib.sha256()
    for f in sorted(resources.files("ternhw.energy").iterdir(), key=lambda f: f.name):
        if f.name.endswith(".yaml"):
            h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def point_key(changes: dict) -> str:
    """The hash of a point: its changed fields (the base config is part of the space, which
    the caller keeps fixed for a cache file)."""
    return hashlib.sha256(json.dumps(changes, sort_keys=True).encode()).hexdigest()[:32]


def config_key(cfg: AcceleratorConfig) -> str:
    """The hash of a whole config, name excluded: the cache key of a point."""
    d = {k: v for k, v in cfg.to_dict().items() if k != "name"}
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:32]


def evaluate_point(ctx: Context, index: int, changes: dict) -> dict:
    """``{"config_hash", "config", "status", "reason_kind", metrics...}`` of one point; never raises
    for a point that is the user's to fix: the reason goes into ``status``."""
    try:
        cfg = ctx.space.config_of(changes, index)
    except (ConfigError, TypeError) as e:
        return {"config_hash": None, "config": None, "status": f"invalid: {e}",
                "reason_kind": "config"}
    out = {"config_hash": config_key(cfg), "config": {k: v for k, v in cfg.to_dict().items()
                                              if k != "name"}}
    try:
        out.update(evaluate(cfg, ctx.profile, ctx.area))
        out["status"], out["reason_kind"] = "ok", ""
    except TernhwError as e:
        out["status"], out["reason_kind"] = f"invalid: {e}", "workload"
    return out


def evaluate_chunk(ctx: Context, items: list[tuple[int, dict]]) -> list[dict]:
    """Evaluate ``(index, changes)`` pairs: the unit of work of a worker."""
    return [evaluate_point(ctx, i, ch) for i, ch in items]


def cache_dir() -> Path:
    return Path(os.environ.get("TERNHW_CACHE_DIR", Path.home() / ".cache" / "ternhw")) / "sweep"


class ResultCache:
    """The append-only per-context JSON-lines cache (see the module docstring)."""

    def __init__(self, ctx: Context, enabled: bool = True):
        self.enabled = enabled
        self.path = cache_dir() / f"{ctx.fingerprint()}.jsonl"
        self.entries: dict[str, dict] = {}
        self._torn = False
        if enabled and self.path.is_file():
            with open(self.path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            self._torn = bool(text) and not text.endswith("\n")
            for line in text.splitlines():
                try:
                    e = json.loads(line)
                    self.entries[e["k"]] = e["r"]
                except (ValueError, KeyError, TypeError):
                    continue                # a torn last line from an interrupted run

    def get(self, key: str) -> dict | None:
        return self.entries.get(key)

    def add(self, results: Iterable[tuple[str, dict]]) -> None:
        lines = []
        for k, r in results:
            self.entries[k] = r
            lines.append(json.dumps({"k": k, "r": r}) + "\n")
        if not self.enabled or not lines:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as f:
                # end a torn line first, so it cannot swallow the first new entry
                f.write(("\n" if self._torn else "") + "".join(lines))
            self._torn = False
        except OSError as e:
            raise TernhwError(f"cannot write the sweep cache {self.path}: {e}") from None


def _chunks(items: list, workers: int) -> list[list]:
    size = max(64, min(2000, len(items) // max(1, workers * 8) or 1))
    return [items[i:i + size] for i in range(0, len(items), size)]


def run_points(ctx: Context, *, jobs: int | None = None, scheduler: str | None = None,
               use_cache: bool = True, progress: bool = True,
               log: Callable[[str], None] = print) -> list[dict]:
    """Evaluate every point of ``ctx.space``; returns one row per point, in space order. A
    cached point is keyed by the hash of the base config and its changed fields."""
    points = ctx.space.points()
    cache = ResultCache(ctx, enabled=use_cache)
    base_key = config_key(ctx.space.base)
    keys = [_cache_key(base_key, ch) for ch in points]
    rows: list[dict | None] = [cache.get(k) for k in keys]
    todo = [(i, points[i]) for i, r in enumerate(rows) if r is None]
    if len(todo) < len(points):
        log(f"{len(points) - len(todo):,} of {len(points):,} points from the cache "
            f"({cache.path})")
    bar = Progress(len(todo), "sweep", enabled=progress and bool(todo))
    done = 0

    def collect(chunk_items, results):
        nonlocal done
        for (i, _), r in zip(chunk_items, results, strict=True):
            rows[i] = r
        cache.add((keys[i], r) for (i, _), r in zip(chunk_items, results, strict=True))
        done += len(results)
        bar.update(done, f"{done / max(bar.total, 1):.0%}")

    if todo:
        if scheduler:
            _run_dask(ctx, todo, scheduler, collect)
        else:
            _run_local(ctx, todo, jobs or os.cpu_count() or 1, collect)
    bar.close()
    out = []
    for i, r in enumerate(rows):
        out.append({"point": i, **r})
    return out


def _cache_key(base_key: str, changes: dict) -> str:
    return hashlib.sha256(f"{base_key}|{point_key(changes)}".encode()).hexdigest()[:32]


def _run_local(ctx: Context, todo: list, jobs: int, collect) -> None:
    chunks = _chunks(todo, jobs)
    if jobs <= 1 or len(chunks) == 1:
        for c in chunks:
            collect(c, evaluate_chunk(ctx, c))
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futs = {pool.submit(evaluate_chunk, ctx, c): c for c in chunks}
        for f in as_completed(futs):
            collect(futs[f], f.result())


def _run_dask(ctx: Context, todo: list, address: str, collect) -> None:
    try:
        from distributed import Client, as_completed
    except ImportError:
        from ..errors import ToolMissingError
        raise ToolMissingError("--scheduler needs Dask distributed: "
                               "pip install 'ternhw[sweep]' (or 'dask[distributed]')") from None
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as e:
        raise TernhwError(f"--scheduler {address}: cannot connect to a Dask scheduler "
                          f"({e})") from None
    try:
        nworkers = max(1, len(client.scheduler_info().get("workers", {})))
        [ctx_f] = client.scatter([ctx], broadcast=True)
        chunks = _chunks(todo, nworkers)
        futs = {client.submit(evaluate_chunk, ctx_f, c, pure=False): i
                for i, c in enumerate(chunks)}
        for f in as_completed(futs):
            collect(chunks[futs[f]], f.result())
    finally:
        client.close()
