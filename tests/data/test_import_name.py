"""The import package ``data``: it sits at the bottom (imports nothing from ``qml`` or
``chemistry``) and a user's own ``data/`` folder in the working directory does not shadow it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import data

OURS = Path(data.__file__).resolve()


def _run(code: str, cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_data_imports_nothing_from_qml_or_chemistry(tmp_path):
    code = (
        "import importlib, json, pkgutil, sys\n"
        "import data\n"
        "for m in pkgutil.iter_modules(data.__path__):\n"
        "    importlib.import_module('data.' + m.name)\n"
        "data.catalogue()\n"
        "tops = ('data', 'qml', 'chemistry')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in tops)))\n"
    )
    loaded = json.loads(_run(code, tmp_path))
    assert "data.registry" in loaded and "data.environments" in loaded  # it did import everything
    assert [m for m in loaded if not m.startswith("data")] == []


def test_a_users_data_folder_does_not_shadow_ours(tmp_path):
    """ML projects often keep a ``data/`` folder (no ``__init__.py``) beside their scripts; Python
    would import it as a namespace package if nothing else on ``sys.path`` had a regular ``data``."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.csv").write_text("x,y\n1,2\n")
    out = _run("import data; print(data.__file__); print(len(data.catalogue()))", tmp_path)
    where, count = out.split()
    assert Path(where).resolve() == OURS, (
        "a data/ folder in the working directory shadowed ketml's data package: install ketml "
        "non-editable, or editable with --config-settings editable_mode=compat (make venv does)"
    )
    assert int(count) > 20
