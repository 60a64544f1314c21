"""Every notebook in notebooks/ runs top to bottom.

The code cells are executed in order, in one namespace, in a fresh interpreter (as a kernel
would, without needing Jupyter installed); a cell that raises fails the test and names the
cell.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))

_RUNNER = r"""
import json, sys, traceback
notebook = json.load(open(sys.argv[1]))
namespace = {"__name__": "__main__", "display": print}
for number, cell in enumerate(c for c in notebook["cells"] if c["cell_type"] == "code"):
    source = "".join(cell["source"])
    try:
        exec(compile(source, f"<cell {number}>", "exec"), namespace)
    except BaseException:
        traceback.print_exc()
        print(f"NOTEBOOK CELL {number} FAILED:\n{source}", file=sys.stderr)
        sys.exit(1)
print("ALL CELLS RAN")
"""


def test_there_is_a_notebook():
    assert [p.name for p in NOTEBOOKS] == ["compliance_demo.ipynb"]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom(notebook, tmp_path):
    cells = json.loads(notebook.read_text())["cells"]
    assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code"), "commit notebooks without outputs"
    process = subprocess.run([sys.executable, "-c", _RUNNER, str(notebook)], cwd=tmp_path,
                             capture_output=True, text=True, timeout=300, check=False)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    assert "ALL CELLS RAN" in process.stdout
