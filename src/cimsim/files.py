"""Atomic result files: every file appears whole or not at all.

Each writer writes to a temporary file in the target folder and renames it into place
(``os.replace`` is atomic on one file system), so a reader never sees half a file and an
interrupted run leaves no partial output.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_read_umask()
"""Mode for result files: what ``open()`` would give (mkstemp alone gives 0600)."""


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary path beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """Write a text file atomically."""
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(path: Path, data: Any) -> None:
    """Write a JSON file atomically."""
    write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def write_parquet(path: Path, df: pd.DataFrame, metadata: dict[str, Any] | None = None) -> None:
    """Write a Parquet file atomically; ``metadata`` goes into the file's schema metadata
    under the key ``cimsim`` (as JSON; read it back with :func:`read_parquet_metadata`)."""
    if metadata is None:
        atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False))
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    extra = {b"cimsim": json.dumps(metadata, sort_keys=True, default=str).encode()}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **extra})
    atomic_write(path, lambda tmp: pq.write_table(table, tmp))


def read_parquet_metadata(path: Path) -> dict[str, Any]:
    """The ``cimsim`` metadata a Parquet file was written with ({} if none)."""
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    return json.loads(meta[b"cimsim"]) if b"cimsim" in meta else {}


def write_csv(path: Path, df: pd.DataFrame) -> None:
    """Write a CSV file atomically."""
    atomic_write(path, lambda tmp: df.to_csv(tmp, index=False))


RUN_MARKER = "run.json"
"""The file that marks a folder as the output of one ``cimsim run``."""


@contextmanager
def output_folder(out: Path) -> Iterator[Path]:
    """Write a whole output folder at once: yield a temporary sibling to write into, then
    put it in place of ``out``, so ``out`` is always complete or absent.

    The temporary folder is created on entry, so an unwritable ``out`` fails before any
    work. An existing ``out`` is replaced only if it is empty or the output of an earlier
    run (it holds ``run.json``); otherwise :class:`OSError` is raised and nothing is touched.
    On an error the temporary folder is removed and ``out`` is left as it was.
    """
    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise NotADirectoryError("exists and is not a folder")
        if any(out.iterdir()) and not (out / RUN_MARKER).is_file():
            raise FileExistsError("a folder holding other files; give a new or empty folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_read_umask())
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            os.replace(out, old / "previous")
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_run(out: Path, model: Any, seed: int, steps: int) -> None:
    """Write one run: series (CSV and Parquet, with provenance), area progress, the resolved
    scenario as JSON and as a re-runnable ``scenario.toml``, and ``run.json``."""
    import tomli_w

    from cimsim.provenance import provenance

    record = {**provenance(model.spec, seed), "steps": steps}
    series = model.results().reset_index()
    areas = model.area_progress().reset_index()
    write_csv(out / "series.csv", series)
    write_parquet(out / "series.parquet", series, record)
    write_csv(out / "area_progress.csv", areas)
    data = model.spec.model_dump(mode="json", exclude_none=True)
    write_json(out / "scenario.json", model.spec.model_dump(mode="json"))
    header = (
        f"# the resolved scenario of this run (seed {seed}, {steps} months); run it again with\n"
        f"#     cimsim run scenario.toml --seed {seed} --steps {steps}\n"
    )
    write_text(out / "scenario.toml", header + tomli_w.dumps(data))
    write_json(out / RUN_MARKER, record)


def check_out(out: str | Path | None) -> None:
    """Refuse an ``--out`` that exists and is not a folder (one line, before any run)."""
    from cimsim.errors import UserError

    if out is not None and Path(out).exists() and not Path(out).is_dir():
        raise UserError(f"--out {out}: exists and is not a folder")
