"""Sphinx configuration of the ketml documentation site (``make docs``).

Sources are Markdown (MyST); the notebooks in ``examples/`` are rendered from their committed
outputs (never executed here). Everything that is data rather than prose is generated at build
time by ``_ext/ketml_docs.py``: the API pages, the engine capabilities, the dataset catalogue, the
reproduction tables and the CLI reference.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))

project = "ketml"
author = "the ketml authors"
copyright = "the ketml authors"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "ketml_docs",
]

# Markdown everywhere; `{include}` pulls sections of the README between its `<!-- docs:... -->`
# markers, so the prose lives in one place.
myst_enable_extensions = ["colon_fence", "dollarmath", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "off"  # notebooks carry their outputs; the test suite executes them
nb_merge_streams = True

highlight_language = "none"  # unlabelled blocks are shell sessions and diagrams
exclude_patterns = ["_build", "_templates", "_gen", "**.ipynb_checkpoints", "jupyter_execute"]
templates_path = ["_templates"]

autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_member_order = "bysource"
autodoc_default_options = {"show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

# Broken cross-references are errors (-n with -W). Third-party types in signatures cannot resolve
# without intersphinx, which would need the network at build time: those alone are ignored.
nitpicky = True
nitpick_ignore_regex = [
    (
        r"py:.*",
        r"(torch|numpy|np|qiskit|scipy|pyscf|transformers|typer|click|matplotlib|pathlib"
        r"|collections|typing|concurrent|dataclasses|enum|os|sqlite3|pandas|gymnasium|pennylane)(\..*)?",
    ),
    (r"py:class", r"(Module|nn\.Module|Tensor|Path|Iterator|Callable|Sequence|Mapping)"),
]

html_theme = "furo"
html_title = "ketml"
html_static_path: list[str] = []

# The public packages whose `__all__` make the API reference (every subpackage of theirs that
# declares `__all__` gets its page too, so a new family such as qml.reservoir joins by itself).
ketml_api_packages = ["circuits", "data", "qml", "chemistry"]
# modules without `__all__` whose public classes and functions are API too (the errors to catch)
ketml_api_modules = ["circuits.errors"]
