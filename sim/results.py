"""Writing results: atomic files, strict JSON, safe file names and one writer per folder.

Every file is written to a temporary name in the same folder and then renamed
(``os.replace`` is atomic on POSIX), so a reader or a killed run never sees a
half-written file. Manifests are strict JSON (RFC 8259: no ``Infinity``, no
integer a double cannot hold exactly), readable by any JSON reader. A results
folder is written by one run at a time (:func:`locked`), and a user's name
(experiment, variant) becomes a file name only through :func:`safe_name`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim.config import ConfigError

__all__ = ["atomic_write_bytes", "atomic_write_json", "atomic_write_parquet", "code_hash",
           "package_versions", "write_single_run", "read_manifest", "safe_name", "locked",
           "prepare_out", "OUTPUTS", "clear_outputs", "check_single_run_out"]

MAX_EXACT_INT = 2**53 - 1  # larger integers lose digits in JSON readers that use doubles
# What a run writes in its folder (and all that --fresh deletes there).
OUTPUTS = ("manifest.json", "cells", "kpis.parquet", "ledger.parquet", "state.parquet",
           "events.parquet", "summary.parquet", "summary.csv", "cost_effectiveness.csv",
           "ranking.csv", "ranking_pairs.csv", "sensitivity.csv", "report.html", "report.pdf",
           "figures", "tables")

_PACKAGES = ("sim", "mesa", "numpy", "scipy", "pandas", "networkx", "simpy", "matplotlib")


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, with the permissions a plain write would
    give (mkstemp's files are private to their owner; results are meant to be shared)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _plain(obj: Any) -> Any:
    """``obj`` as strict-JSON values: a non-finite float becomes ``{"$float": "inf"}``,
    an integer beyond 2**53 - 1 its decimal string, numpy scalars Python numbers."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, str | bytes):  # numpy scalar
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return {"$float": repr(obj)}
    if isinstance(obj, int) and not isinstance(obj, bool) and abs(obj) > MAX_EXACT_INT:
        return str(obj)
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    return str(obj)


def _unplain(obj: dict) -> Any:
    return float(obj["$float"]) if set(obj) == {"$float"} else obj


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as strict JSON (see :func:`_plain`; :func:`read_manifest` reads
    it back). Keys keep their order: a sweep's parameters are sampled in the order
    declared, so the manifest must give them back in that order (never sorted)."""
    text = json.dumps(_plain(obj), indent=2, allow_nan=False, ensure_ascii=False)
    atomic_write_bytes(path, text.encode())


def read_manifest(folder: Path, field: str = "out") -> dict[str, Any]:
    """The manifest of a results folder; ConfigError if it is missing or corrupt."""
    path = Path(folder) / "manifest.json"
    if not path.is_file():
        raise ConfigError(field, str(folder), "a results folder (it has no manifest.json)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"), object_hook=_unplain)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(field, str(folder), f"a results folder with a readable manifest.json "
                          f"({type(exc).__name__}: {exc})") from None
    if not isinstance(manifest, dict) or manifest.get("kind") not in ("experiment",
                                                                       "single_run"):
        raise ConfigError(field, str(folder), "a results folder whose manifest.json has a "
                          "kind (experiment or single_run)")
    return manifest


def safe_name(name: str, limit: int = 48) -> str:
    """A file name for a user's name, whatever it holds (``../``, ``/``, NUL, control
    characters, 300 bytes of Chinese): ASCII letters, digits, ``.``, ``_`` and ``-``,
    at most ``limit`` characters plus, when the name had to change, 8 hex digits of
    its SHA-256, so that two names never share a file. The name itself is kept as
    given in tables and reports; only the file name is made safe."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:limit].rstrip("-.")
    if slug and slug == name:
        return slug
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{slug}-{digest}" if slug else digest


def prepare_out(out: Path, field: str = "out") -> Path:
    """Create the results folder ``out`` (and its parents); ConfigError naming it if it
    is a file, cannot be created or cannot be written."""
    out = Path(out)
    if out.is_file():
        raise ConfigError(field, str(out), "a folder (it is a file)")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = tempfile.TemporaryFile(dir=out)
        probe.close()
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(field, str(out), f"a folder that can be created and written "
                          f"({reason})") from None
    return out


@contextmanager
def locked(out: Path, field: str = "out") -> Iterator[Path]:
    """Hold the lock of the results folder ``out`` (``out/.lock``, created with the
    folder) while the block runs; another run already holding it is refused at once
    with a ConfigError. The operating system releases the lock when its holder
    ends, even by SIGKILL, so a killed run never leaves the folder locked."""
    from filelock import FileLock, Timeout

    out = prepare_out(out, field)
    lock = FileLock(str(out / ".lock"), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise ConfigError(field, str(out), "a folder no other run is writing (another run "
                          "holds its .lock: wait for it to end, or choose another --out)"
                          ) from None
    try:
        yield out
    finally:
        lock.release()


def clear_outputs(out: Path) -> None:
    """Delete what a run wrote in ``out`` (:data:`OUTPUTS`), nothing else (``--fresh``)."""
    import shutil

    for name in OUTPUTS:
        path = Path(out) / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def atomic_write_parquet(path: Path, frame: pd.DataFrame) -> None:
    import io

    buf = io.BytesIO()
    frame.to_parquet(buf, index=True)
    atomic_write_bytes(path, buf.getvalue())


def code_hash() -> str:
    """Fingerprint of the simulator's own code and shipped scenarios.

    Results written by different code must not be mixed when a run resumes,
    even when the package version string is the same.
    """
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".toml") and "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


# Stamps of the other commands' results folders: an experiment or a single run never
# writes into them (their files are not ours to delete, even with --fresh).
FOREIGN = {"optimise.json": "an optimisation's results (sim optimise)",
           "calibration.json": "a calibration's results (sim calibrate)"}


def check_not_foreign(out: Path) -> None:
    """ConfigError if ``out`` holds another command's results (:data:`FOREIGN`)."""
    for stamp, held in FOREIGN.items():
        if (Path(out) / stamp).exists():
            raise ConfigError("out", str(out), f"a folder for this run (it holds {held}; "
                              "choose another --out)")


def check_single_run_out(out: Path, fresh: bool = False) -> None:
    """Refuse to write a single run over an experiment's folder (unless ``fresh``, which
    deletes its results first) or another command's. Call it holding :func:`locked`,
    before running."""
    check_not_foreign(out)
    if not (Path(out) / "manifest.json").exists():
        return
    if fresh:
        clear_outputs(out)
        return
    try:
        kind = read_manifest(out).get("kind")
    except ConfigError:
        kind = None
    if kind != "single_run":
        held = "an experiment's results" if kind == "experiment" else "an unreadable manifest"
        raise ConfigError("out", str(out), f"a folder for a single run (it holds {held}: add "
                          "--fresh to delete its results, or choose another --out)")


def write_single_run(out: Path, model, kpis: pd.DataFrame, overrides: dict) -> None:
    """KPI table, ledger and manifest of one model run, under ``out`` (checked by
    :func:`check_single_run_out`)."""
    out = Path(out)
    atomic_write_parquet(out / "kpis.parquet", kpis)
    atomic_write_parquet(out / "ledger.parquet", model.ledger)
    atomic_write_json(out / "manifest.json", {
        "kind": "single_run",
        "scenario": model.params.name,
        "seed": model.seed,
        "days": len(kpis),
        "overrides": overrides,
        "strategies": [s.get_params() for s in model.strategies],
        "versions": package_versions(),
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
    })
