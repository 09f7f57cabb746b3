"""The result folder of an experiment: Parquet parts, a manifest, consolidated tables.

Layout of ``out/``::

    .lock                        held (an OS file lock) while a command writes here
    manifest.json                what was run (scenario, design, seeds, versions)
    parts/finals-A-B-H-C.parquet final reporters of the runs of one finished batch
    parts/series-A-B-H-C.parquet monthly reporters of the same runs
    finals.parquet, finals.csv, series.parquet   consolidated at the end

Every file is written atomically (temporary file + rename), so a killed sweep leaves
only whole parts plus ignorable ``*.tmp`` files. A part is named by the run ids it holds
(first, last and a hash of all, A-B-H) and by a checksum of its bytes (C): a part whose
bytes do not match (a flipped byte, a truncated copy) is ignored with a warning and its
runs are run again. Re-running never duplicates a part; runs are also de-duplicated on
reading. A run counts as finished when its finals part exists and, if series are kept,
its series part too (the series part is written first). One command at a time writes to
a folder: a second one is refused with one line while the first holds the lock.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
from pathlib import Path
from typing import Any

try:  # POSIX advisory locks; elsewhere folders are not locked
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

import pandas as pd

from cimsim.errors import RunError
from cimsim.files import atomic_write, write_json, write_parquet

IDENTITY = ("scenario_name", "scenario", "design", "replicates", "root_seed", "steps", "series")
"""Manifest fields that define an experiment; a folder only resumes the same experiment."""


def _canonical(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True, default=str))


class ResultStore:
    """Parts, manifest and consolidated tables of one experiment in folder ``out``."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.parts = self.out / "parts"
        self.manifest_path = self.out / "manifest.json"
        self._lock_fd: int | None = None
        self._created = False

    # ------------------------------------------------------------------ lock

    def lock(self) -> None:
        """Take the folder's lock (creating the folder); refuse if another command holds it."""
        self.check_folder()
        self._created = not self.out.exists()
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.out / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise RunError(f"{self.out}: cannot write here ({err.strerror})") from None
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise RunError(
                    f"{self.out}: another cimsim command is writing to this folder; "
                    "wait for it to finish or use another output folder"
                ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # who holds it, for a curious user
        self._lock_fd = fd

    def unlock(self) -> None:
        """Release the lock; a folder this store created and never wrote to is removed."""
        if self._lock_fd is None:
            return
        os.close(self._lock_fd)  # closing the descriptor releases the lock
        self._lock_fd = None
        if self._created and not self.manifest_path.exists():
            (self.out / ".lock").unlink(missing_ok=True)
            try:
                self.out.rmdir()
            except OSError:
                pass

    # ------------------------------------------------------------------ manifest

    def check_folder(self) -> None:
        """Refuse an ``out`` that exists but is not a folder."""
        if self.out.exists() and not self.out.is_dir():
            raise RunError(f"{self.out}: exists and is not a folder")

    def read_manifest(self) -> dict[str, Any] | None:
        """The existing manifest, or None if there is none."""
        if not self.manifest_path.is_file():
            return None
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise RunError(f"{self.manifest_path}: unreadable manifest ({err})") from None

    def prepare(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Check (without writing) that ``out`` is new or holds this same experiment.

        Returns the manifest in force (an existing one keeps its ``created_at``).
        """
        self.check_folder()
        old = self.read_manifest()
        if old is not None:
            differ = [k for k in IDENTITY if _canonical(old.get(k)) != _canonical(manifest.get(k))]
            if differ:
                raise RunError(
                    f"{self.manifest_path} describes a different experiment "
                    f"(it differs in {', '.join(differ)}); use another output folder"
                )
            manifest = {**manifest, "created_at": old.get("created_at", manifest["created_at"])}
        elif self.parts.is_dir() and any(self.parts.glob("*.parquet")):
            raise RunError(
                f"{self.out}: holds result parts but no manifest.json; use another folder"
            )
        return manifest

    def start(self, manifest: dict[str, Any]) -> None:
        """Create the folder and write the manifest."""
        self.parts.mkdir(parents=True, exist_ok=True)
        write_json(self.manifest_path, manifest)

    def open(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """:meth:`prepare` then :meth:`start`; returns the manifest in force."""
        manifest = self.prepare(manifest)
        self.start(manifest)
        return manifest

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Rewrite the manifest atomically."""
        write_json(self.manifest_path, manifest)

    # ------------------------------------------------------------------ parts

    @staticmethod
    def part_name(kind: str, runs: list[int], checksum: str) -> str:
        """File name of a part holding ``runs`` (``kind`` is finals or series) whose bytes
        have the SHA-256 ``checksum`` (its first 16 hex digits are kept)."""
        ids = sorted(runs)
        digest = hashlib.sha1(",".join(map(str, ids)).encode()).hexdigest()[:10]
        return f"{kind}-{ids[0]:07d}-{ids[-1]:07d}-{digest}-{checksum[:16]}.parquet"

    def _write_part(self, kind: str, runs: list[int], df: pd.DataFrame) -> None:
        buffer = io.BytesIO()
        df.to_parquet(buffer, index=False)
        data = buffer.getvalue()
        name = self.part_name(kind, runs, hashlib.sha256(data).hexdigest())
        atomic_write(self.parts / name, lambda tmp: tmp.write_bytes(data))

    def write_part(self, finals: pd.DataFrame, series: pd.DataFrame | None) -> None:
        """Write one batch: the series part first, then the finals part (which marks it done)."""
        runs = finals["run"].tolist()
        if series is not None:
            self._write_part("series", runs, series)
        self._write_part("finals", runs, finals)

    def _part_files(self, kind: str) -> list[Path]:
        # atomic_write's temporary files start with "." and end in ".tmp": never matched
        return sorted(self.parts.glob(f"{kind}-*.parquet"))

    def _read(self, path: Path, columns: list[str] | None = None) -> pd.DataFrame | None:
        try:
            data = path.read_bytes()
            fields = path.stem.split("-")
            if len(fields) == 5 and not hashlib.sha256(data).hexdigest().startswith(fields[4]):
                raise ValueError("checksum mismatch (the file was changed or damaged)")
            return pd.read_parquet(io.BytesIO(data), columns=columns)
        except Exception as err:
            warnings.warn(f"ignoring unreadable part {path.name}: {err}", stacklevel=2)
            return None

    def _runs_in(self, kind: str) -> set[int]:
        done: set[int] = set()
        for path in self._part_files(kind):
            df = self._read(path, ["run"])
            if df is not None:
                done.update(int(r) for r in df["run"])
        return done

    def finished_runs(self, series: bool) -> set[int]:
        """Run ids whose results are on disk (finals, and series when kept)."""
        if not self.parts.is_dir():
            return set()
        done = self._runs_in("finals")
        if series:
            done &= self._runs_in("series")
        return done

    def read_parts(self, kind: str) -> list[pd.DataFrame]:
        """Every readable part of one kind."""
        frames = [self._read(p) for p in self._part_files(kind)]
        return [f for f in frames if f is not None]

    # ------------------------------------------------------------------ consolidated

    def _manifest_provenance(self) -> dict[str, Any]:
        """What the tables' Parquet metadata records: provenance and the design's identity."""
        manifest = self.read_manifest() or {}
        keys = ("provenance", "scenario_name", "design_paths", "replicates", "root_seed", "steps")
        return {k: manifest[k] for k in keys if k in manifest}

    def write_tables(self, finals: pd.DataFrame, series: pd.DataFrame | None) -> None:
        """Write finals.parquet, finals.csv and series.parquet atomically."""
        from cimsim.files import write_csv

        meta = self._manifest_provenance()
        write_parquet(self.out / "finals.parquet", finals, meta)
        write_csv(self.out / "finals.csv", finals)
        if series is not None:
            write_parquet(self.out / "series.parquet", series, meta)
