"""Where a result came from: cimsim's version, the git commit, the scenario's hash, the seed.

Written into every output: the manifest and Parquet metadata of a sweep, a single run's
``run.json`` and its ``--json`` output, so a table found later can be traced and re-run.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any


def scenario_hash(scenario: Any) -> str:
    """SHA-256 of the scenario's canonical JSON (the same scenario, the same hash)."""
    data = scenario.model_dump(mode="json") if hasattr(scenario, "model_dump") else scenario
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@cache
def git_commit() -> str | None:
    """The commit of the source tree cimsim runs from (with ``+dirty`` for uncommitted
    changes), or None when it is not a git checkout (an installed wheel)."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"],
                              capture_output=True, text=True, timeout=5)  # fmt: skip
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--", "."],
                               capture_output=True, text=True, timeout=5)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def cimsim_version() -> str:
    """The installed cimsim version."""
    try:
        return version("cimsim")
    except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
        return "unknown"


def provenance(scenario: Any, seed: int | None = None) -> dict[str, Any]:
    """The provenance record of a result of ``scenario`` (and ``seed``, for one run)."""
    record: dict[str, Any] = {
        "cimsim": cimsim_version(),
        "git_commit": git_commit(),
        "scenario": getattr(scenario, "name", None),
        "scenario_sha256": scenario_hash(scenario),
    }
    if seed is not None:
        record["seed"] = int(seed)
    return record
