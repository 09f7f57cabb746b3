"""The built wheel works outside the source tree: scenarios, runs and experiments included."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _share_compiled_kernels(installed: Path) -> None:
    """Give the installed copy the kernels the suite has compiled from the same source
    (``compiled_kernels`` in conftest), so that it does not compile them again (about two
    minutes). numba keeps a module's kernels in its ``__pycache__`` and takes them only for
    a source file of the same size and modification time (and, through
    ``kernels.KernelCacheLocator``, the same contents of every kernel file); a file that
    differs from the source tree's gets no copy and compiles as a user's would."""
    source = ROOT / "src" / "cimsim"
    for module in installed.rglob("*.py"):
        original = source / module.relative_to(installed)
        if not original.exists() or original.read_bytes() != module.read_bytes():
            continue
        compiled = list(original.parent.glob(f"__pycache__/{module.stem}.*.nb[ic]"))
        if not compiled:
            continue
        (module.parent / "__pycache__").mkdir(exist_ok=True)
        for kept in compiled:
            shutil.copy2(kept, module.parent / "__pycache__" / kept.name)
        stamp = original.stat()
        os.utime(module, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))


def test_the_wheel_runs_from_another_folder(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "dist"), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("cimsim-*.whl"))
    fresh = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=True).create(fresh)
    bindir = fresh / "bin"
    site = next((fresh / "lib").glob("python3.*/site-packages"))
    # the dependencies come from this environment (a path, not a site dir: its editable
    # cimsim is not installed there); cimsim itself only from the wheel
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = subprocess.run(
        [bindir / "python", "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    _share_compiled_kernels(site / "cimsim")
    away = tmp_path / "elsewhere"
    away.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CIMSIM_SCENARIOS")}

    def cimsim(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([bindir / "cimsim", *args], capture_output=True, text=True,
                              cwd=away, env=env, timeout=300)  # fmt: skip

    where = subprocess.run([bindir / "python", "-c", "import cimsim; print(cimsim.__file__)"],
                           capture_output=True, text=True, cwd=away, env=env)  # fmt: skip
    assert str(site) in where.stdout, where.stdout  # the wheel's copy, not the source tree
    listed = cimsim("scenarios")
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [
        "malmo",
        "mechelen",
        "skive",
    ]
    run = cimsim("run", "malmo", "--json", "--steps", "3")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["steps"] == 3
    assert "missing-backbone" in cimsim("experiment", "--help").stdout
    plans = site / "cimsim" / "scenarios" / "plans"
    compared = cimsim("compare-plans", str(plans / "mechelen-backbone-now.toml"),
                      str(plans / "mechelen-backbone-year2.toml"), "--replicates", "2",
                      "--months", "3", "--serial", "--json")  # fmt: skip
    assert compared.returncode == 0, compared.stderr
    assert json.loads(compared.stdout)["plans"] == ["backbone-now", "backbone-year2"]
