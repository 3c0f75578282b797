"""Writing results: atomic files and a manifest that lets anyone reproduce them.

Every file is written to a temporary name in the same folder and then renamed
(``os.replace`` is atomic on POSIX), so a reader or a killed run never sees a
half-written file.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["atomic_write_bytes", "atomic_write_json", "atomic_write_parquet", "code_hash",
           "package_versions", "write_single_run"]

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


def atomic_write_json(path: Path, obj: Any) -> None:
    # Keys keep their order: a sweep's parameters are sampled in the order declared,
    # so the manifest must give them back in that order (never sorted).
    atomic_write_bytes(path, json.dumps(obj, indent=2, default=str).encode())


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
    import hashlib

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


def write_single_run(out: Path, model, kpis: pd.DataFrame, overrides: dict) -> None:
    """KPI table, ledger and manifest of one model run, under ``out``."""
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
