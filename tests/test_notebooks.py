"""The notebooks: stored without outputs, and each runs top to bottom at quick sizes.

Every notebook reads ``CIMSIM_NB_QUICK`` in its first code cell; with ``CIMSIM_NB_QUICK=1``
(set here, inherited by the kernel) it uses tiny populations, short runs and the serial
executor. The kernel is this interpreter's ``python3`` kernel (ipykernel).
"""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("ipywidgets")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ("01_educators", "02_planners", "03_researchers")


def read(name: str):
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def execute(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run a notebook in a fresh kernel (cwd ``tmp_path``) and return it with outputs."""
    monkeypatch.setenv("CIMSIM_NB_QUICK", "1")
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebooks' temporary folders go here
    nb = read(name)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    # Do not mirror ipywidgets Output widgets back to the kernel: nbclient's mirroring
    # sends on the shell channel while it waits for the execute reply there, which can
    # stall a cell until the timeout (jupyter/nbclient#312). Without it, what the
    # interact callback draws lands in the cell's ordinary outputs.
    client.comm_open_handlers = {}
    client.execute()  # raises CellExecutionError (with the traceback) on any failing cell
    return nb


def outputs(nb) -> list[dict]:
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]


def text_of(nb) -> str:
    """All stream text and plain-text results of a notebook, joined."""
    parts = []
    for out in outputs(nb):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.data.get("text/plain", ""))
    return "\n".join(parts)


def images(nb) -> int:
    return sum(
        1
        for out in outputs(nb)
        if out.output_type in ("execute_result", "display_data") and "image/png" in out.data
    )


@pytest.mark.parametrize("name", NAMES)
def test_stored_without_outputs(name: str) -> None:
    nb = read(name)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, f"{name} has no code cells"
    for cell in code:
        assert cell.outputs == [], f"{name}: a cell has stored outputs"
        assert cell.execution_count is None, f"{name}: a cell has an execution count"
    assert "widgets" not in nb.metadata, f"{name}: stored widget state"
    assert "CIMSIM_NB_QUICK" in code[0].source, f"{name}: size switch not in first code cell"


@pytest.mark.slow
def test_educators_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = execute("01_educators", tmp_path, monkeypatch)
    text = text_of(nb)
    assert "quick mode: True" in text
    # with/without backbone side by side, the interact callback's first drawing, weak start
    assert images(nb) >= 3
    widget_views = [
        out
        for out in outputs(nb)
        if out.output_type in ("execute_result", "display_data")
        and "application/vnd.jupyter.widget-view+json" in out.data
    ]
    assert widget_views, "the interact controls were not displayed"
    assert "with backbone" in text and "without backbone" in text
    assert text.count("after 36 months: impact") == 2  # interact's first run, weak start


@pytest.mark.slow
def test_planners_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = execute("02_planners", tmp_path, monkeypatch)
    text = text_of(nb)
    assert (
        "riverton-range.toml: settings.communication: Input should be less than or equal "
        "to 1 (got 1.4)" in text
    )
    assert "riverton-field.toml: backbone.colour: unknown field" in text
    assert "unknown parameter 'backbone.capcity'" in text
    assert "Traceback" not in text
    assert "backbone first - measurement first:" in text
    assert "95% CI" in text
    assert images(nb) >= 2


@pytest.mark.slow
def test_researchers_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = execute("03_researchers", tmp_path, monkeypatch)
    text = text_of(nb)
    assert "d_z" in text  # the effect-size table
    assert "noise share:" in text  # Sobol across the cases
    assert "malmo" in text and "mechelen" in text and "skive" in text
    assert "failure threshold" in text  # PRIM
    assert "dask:local:2 and serial: 10 runs, identical results" in text
    assert images(nb) >= 3
