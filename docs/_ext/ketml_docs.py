"""Generate the data-driven parts of the ketml docs at build time (before Sphinx reads sources).

Nothing here is retyped: the API pages come from each package's ``__all__``, the engine table
from ``circuits.engines.capabilities()``, the dataset table from ``data.catalogue()``, the
reproduction tables from ``benchmarks/results/repro_*.json``, the benchmark pages from the
committed ``benchmarks/results/*.md`` (and any PNG beside them), the CLI reference from the click
command tree of ``ketml``, and the tutorials from ``examples/*.ipynb`` (copied, with their
outputs). Generated files are written only when their text changes, so rebuilds stay incremental.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import pkgutil
import re
import shutil
import sys
import types
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.nodes import make_refnode

logger = logging.getLogger(__name__)

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent
RESULTS = ROOT / "benchmarks" / "results"
GEN = DOCS / "_gen"


def write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` unless it already holds exactly that (keeps mtimes stable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def cell(value) -> str:
    """One Markdown table cell: no pipes or newlines."""
    text = "" if value is None else str(value)
    if not text.startswith("`"):  # prose: `<dataset>` is not an HTML tag, `*` no emphasis
        for ch in "\\<>*[]":
            text = text.replace(ch, "\\" + ch)
    return text.replace("|", "\\|").replace("\n", " ")


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def fmt(value, digits: int = 4) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


# ---------------------------------------------------------------- API reference


def api_packages(roots: list[str]) -> list[types.ModuleType]:
    """The root packages and every importable subpackage of theirs that declares ``__all__``."""
    found = []
    for name in roots:
        root = importlib.import_module(name)
        found.append(root)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{name}.", onerror=lambda _: None):
            if not info.ispkg or any(part.startswith("_") for part in info.name.split(".")):
                continue
            try:
                module = importlib.import_module(info.name)
            except Exception as exc:  # an optional family whose dependencies are missing
                logger.info(f"ketml_docs: {info.name} not documented ({type(exc).__name__}: {exc})")
                continue
            if hasattr(module, "__all__"):
                found.append(module)
    return found


def home(module: types.ModuleType, name: str, packages: list[types.ModuleType]) -> str | None:
    """The deepest documented subpackage of ``module`` that also exports ``name`` (the same object),
    so a re-exported class is described once and linked from its parents."""
    obj = getattr(module, name, None)
    best = None
    for other in packages:
        if other.__name__.startswith(module.__name__ + ".") and name in getattr(other, "__all__", ()):
            if getattr(other, name, None) is obj and (best is None or len(other.__name__) > len(best)):
                best = other.__name__
    return best


def submodules(module: types.ModuleType) -> list[str]:
    """The plain (non-package, non-private) modules of a package."""
    if not hasattr(module, "__path__"):
        return []
    return [
        f"{module.__name__}.{m.name}"
        for m in pkgutil.iter_modules(module.__path__)
        if not m.ispkg and not m.name.startswith("_")
    ]


def summary(module_name: str) -> str:
    """The first sentence of a module's docstring as plain reST text (markup stripped, escaped)."""
    try:
        doc = inspect.getdoc(importlib.import_module(module_name)) or ""
    except Exception:
        return ""
    first = " ".join(doc.split("\n\n")[0].split())
    first = re.sub(r":\w+:`~?([^`]+)`", r"\1", first).replace("``", "")
    for ch in "\\*|`_<>[]":
        first = first.replace(ch, "\\" + ch)
    return first


def api_page(module: types.ModuleType, children: list[str], packages: list[types.ModuleType]) -> str:
    name = module.__name__
    public = list(module.__all__) if hasattr(module, "__all__") else []
    documented = {m.__name__ for m in packages}
    modules = [n for n in public if f"{name}.{n}" in documented]
    homes = {n: home(module, n, packages) for n in public if n not in modules}
    members = [n for n, h in homes.items() if h is None]
    reexported = {n: h for n, h in homes.items() if h is not None}
    lines = [name, "=" * len(name), "", f".. automodule:: {name}", "   :no-members:", ""]
    if reexported:
        lines += ["Also exported here (described in their subpackage):", ""]
        lines += [f"- :py:obj:`{n} <{h}.{n}>` (from :py:mod:`{h}`)" for n, h in reexported.items()] + [""]
    if members:
        lines += [f".. currentmodule:: {name}", "", ".. autosummary::", "   :toctree: generated", ""]
        lines += [f"   {n}" for n in members] + [""]
    plain = [m for m in submodules(module) if m.rsplit(".", 1)[1] not in public and m not in children]
    if plain:
        # a target for :mod: references to each module, and what it holds (its first line)
        lines += ["Modules", "-------", ""]
        for sub in plain:
            lines += [f".. py:module:: {sub}", "", f"- ``{sub}``: {summary(sub)}", ""]
    linked = [f"{name}.{m}" for m in modules] + [c for c in children if c.rsplit(".", 1)[0] == name]
    linked = list(dict.fromkeys(linked))
    if linked:
        # the .rst suffix keeps Sphinx from reading the dotted name's last part as a file suffix
        lines += [".. toctree::", "   :maxdepth: 1", ""] + [f"   {c}.rst" for c in linked] + [""]
    return "\n".join(lines)


def module_page(name: str) -> str:
    """A module without ``__all__`` (``circuits.errors``): the public names it defines."""
    module = importlib.import_module(name)
    members = [
        n
        for n, obj in vars(module).items()
        if not n.startswith("_")
        and getattr(obj, "__module__", None) == name
        and (inspect.isclass(obj) or inspect.isfunction(obj))
    ]
    lines = [
        name,
        "=" * len(name),
        "",
        f".. automodule:: {name}",
        "   :no-members:",
        "",
        f".. currentmodule:: {name}",
        "",
        ".. autosummary::",
        "   :toctree: generated",
        "",
    ]
    return "\n".join(lines + [f"   {n}" for n in members] + [""])


def generate_api(app: Sphinx) -> None:
    packages = api_packages(app.config.ketml_api_packages)
    extra = list(app.config.ketml_api_modules)
    names = [m.__name__ for m in packages]
    out = DOCS / "api"
    for name in extra:
        write(out / f"{name}.rst", module_page(name))
    names += extra
    for module in packages:
        children = [n for n in names if n != module.__name__ and n.rsplit(".", 1)[0] == module.__name__]
        write(out / f"{module.__name__}.rst", api_page(module, children, packages))
    tops = "\n".join(f"   {n}.rst" for n in app.config.ketml_api_packages)
    write(
        out / "index.rst",
        "API reference\n=============\n\n"
        "Every public name of the packages (their ``__all__``), generated from the docstrings.\n"
        "``circuits`` and ``data`` are the bottom layer, ``qml`` and ``chemistry`` build on them.\n\n"
        f".. toctree::\n   :maxdepth: 2\n\n{tops}\n",
    )
    # stale pages of packages that are gone (a removed family) would be orphans: drop them
    for page in out.glob("*.rst"):
        if page.stem != "index" and page.stem not in names:
            page.unlink()


# ---------------------------------------------------------------- tables from the code


def capabilities_table() -> str:
    from circuits import engines

    caps = engines.capabilities()
    fields = [f.name for f in dataclasses.fields(next(iter(caps.values())))]
    header = ["engine"] + [f.replace("_", " ") for f in fields] + ["available here"]
    available = engines.available()
    rows = []
    for name, cap in caps.items():
        status = available.get(name, "")
        rows.append([f"`{name}`"] + [fmt(getattr(cap, f)) for f in fields] + [fmt(status)])
    note = (
        "\n*Generated from `circuits.engines.capabilities()` when these pages were built; the last "
        "column is `circuits.engines.available()` on the build machine.*\n"
    )
    return table(header, rows) + note


def catalogue_table() -> str:
    import data

    rows = []
    for ds in data.catalogue():
        rows.append([f"`{ds.name}`", ds.kind, ds.description, ds.size, ds.source, ds.licence, ds.how_to_get])
    header = ["name", "kind", "description", "size", "source", "licence", "how to get it"]
    return table(header, rows) + "\n*Generated from `data.catalogue()` when these pages were built.*\n"


# ---------------------------------------------------------------- reproduction results


def checks_list(checks: dict) -> str:
    if not checks:
        return ""
    lines = ["", "**Checks** (as recorded by the benchmark):", ""]
    lines += [f"- {'pass' if ok else '**not met**'}: {cell(name)}" for name, ok in checks.items()]
    return "\n".join(lines) + "\n"


def repro_hybrid(d: dict) -> str:
    rows = [
        [
            f"`{e['model']}`",
            e["dataset"],
            fmt(e.get("overrides") or {}),
            e.get("seed", ""),
            f"{100 * e['test_accuracy']:.2f} %",
            e.get("epochs", ""),
            e.get("n_parameters", ""),
            e.get("n_quantum_parameters", ""),
            fmt(e.get("seconds_per_epoch"), 3),
        ]
        for e in d["entries"]
    ]
    header = [
        "model",
        "dataset",
        "overrides",
        "seed",
        "test accuracy",
        "epochs",
        "parameters",
        "quantum",
        "s / epoch",
    ]
    text = table(header, rows)
    if d.get("paper"):
        text += "\n**The papers' figures** (test accuracy):\n\n"
        text += table(["model on dataset", "paper"], [[k, f"{100 * v:.2f} %"] for k, v in d["paper"].items()])
    return text + checks_list(d.get("checks", {}))


def _sequence_row(e: dict) -> list:
    for metric in ("test_mse", "test_accuracy", "mean_return"):
        if metric in e:
            break
    else:
        metric = ""
    length = e.get("epochs", e.get("episodes", ""))
    return [
        e.get("id", ""),
        f"`{e['model']}`",
        e["dataset"],
        e.get("seed", 0),
        metric.replace("_", " "),
        fmt(e.get(metric)),
        length,
        e.get("n_parameters", ""),
        e.get("n_quantum_parameters", ""),
    ]


def repro_sequence(d: dict) -> str:
    header = [
        "run",
        "model",
        "dataset",
        "seed",
        "metric",
        "value",
        "epochs / episodes",
        "parameters",
        "quantum",
    ]
    text = table(header, [_sequence_row(e) for e in d["entries"]])
    if d.get("other_runs"):
        text += "\n**Other runs:**\n\n" + table(header, [_sequence_row(e) for e in d["other_runs"]])
    return text + checks_list(d.get("checks", {}))


def repro_chemistry(d: dict) -> str:
    entries = d["entries"]
    fci = [
        [
            k.removeprefix("fci-"),
            e["molecule"],
            fmt(e.get("active_space")),
            e["n_qubits"],
            f"{e['lowest_eigenvalue']:.10f}",
            f"{e['pyscf_fci']:.10f}",
            f"{e['difference']:.1e}",
        ]
        for k, e in entries.items()
        if k.startswith("fci-")
    ]
    ground = [
        [
            k,
            e["molecule"],
            e["n_qubits"],
            f"{1000 * e['error']:.3f}",
            fmt(e.get("chemical_accuracy")),
            e.get("gate_counts", {}).get("total", ""),
            e.get("gate_counts", {}).get("cx", ""),
            fmt(e.get("iterations", "")),
            fmt(e.get("seconds"), 4),
        ]
        for k, e in entries.items()
        if k.startswith(("gqe-", "vqe-"))
    ]
    auger = []
    for k, e in entries.items():
        if not k.startswith("auger-"):
            continue
        ground_error = e.get("ground", {}).get("error")
        peaks = ", ".join(f"{p[0]:.1f}" for p in e.get("peaks", []))
        auger.append(
            [
                e.get("method", k),
                f"{e['core_hole_energy']:.6f}",
                "" if ground_error is None else f"{1000 * ground_error:.3f}",
                fmt(e.get("total_rate_ev"), 4),
                peaks,
                fmt(e.get("seconds"), 4),
            ]
        )
    text = "**Qubit Hamiltonian against pyscf FCI/CASCI** (Hartree):\n\n"
    text += table(
        ["case", "molecule", "active space", "qubits", "lowest eigenvalue", "pyscf FCI", "difference"], fci
    )
    text += "\n**Ground states** (STO-3G):\n\n"
    text += table(
        [
            "run",
            "molecule",
            "qubits",
            "error vs FCI (mHa)",
            "chemical accuracy",
            "gates",
            "CX",
            "iterations",
            "seconds",
        ],
        ground,
    )
    text += "\n**Water Auger spectrum** (O 1s core hole):\n\n"
    text += table(
        [
            "method",
            "core-hole energy (Ha)",
            "ground error (mHa)",
            "total rate (eV)",
            "strongest peaks (eV)",
            "seconds",
        ],
        auger,
    )
    return text


def _value(value) -> str:
    """A result value: ``[mean, sd]`` as ``mean ± sd``, other number lists joined, floats to 4 digits."""
    if isinstance(value, list) and value and all(isinstance(v, int | float) for v in value):
        if len(value) == 2 and all(isinstance(v, float) for v in value):
            return f"{value[0]:.4g} ± {value[1]:.2g}"
        return ", ".join(fmt(v, 3) for v in value)
    return fmt(value)


def _records(rows: list[dict]) -> str:
    header: list[str] = []
    for row in rows:
        header += [k for k in row if k not in header]
    header = header[:12]
    return table([h.replace("_", " ") for h in header], [[_value(r.get(k)) for k in header] for r in rows])


def repro_generic(d: dict) -> str:
    """Any other ``repro_*.json``: each list of records (or ``{name: record}``) is a table, each
    flat dict a two-column table, then the checks. Bookkeeping keys are left out."""
    skip = {"machine", "command", "checks", "python", "seeds", "quick", "seconds", "git"}
    parts = []
    for key, value in d.items():
        if key in skip:
            continue
        title = f"**{key.replace('_', ' ')}**:\n\n"
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            parts.append(title + _records(value))
        elif isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            parts.append(title + _records([{"run": k, **v} for k, v in value.items()]))
        elif isinstance(value, dict) and value:
            nested = {k: v for k, v in value.items() if isinstance(v, list) and v and isinstance(v[0], dict)}
            flat = [[k.replace("_", " "), _value(v)] for k, v in value.items() if k not in nested]
            parts.append(title + table(["", "value"], flat))
            for sub, rows in nested.items():
                parts.append(f"**{key.replace('_', ' ')}: {sub.replace('_', ' ')}**:\n\n" + _records(rows))
    return "\n".join(parts) + checks_list(d.get("checks", {}))


RENDERERS = {
    "repro_hybrid": repro_hybrid,
    "repro_sequence": repro_sequence,
    "repro_chemistry": repro_chemistry,
}


def generate_results() -> None:
    for path in sorted(RESULTS.glob("repro_*.json")):
        d = json.loads(path.read_text())
        body = RENDERERS.get(path.stem, repro_generic)(d)
        machine = d.get("machine")
        if isinstance(machine, dict):
            machine = ", ".join(f"{k} {v}" for k, v in machine.items())
        source = f"\n*Generated from the committed `benchmarks/results/{path.name}`"
        source += f" (machine: {machine})" if machine else ""
        source += f"; produced by `{d['command']}`" if d.get("command") else ""
        write(GEN / "results" / f"{path.stem}.md", body + source + ".*\n")


#: a markdown image link to a file of the results folder: ``![caption](relative/path.png)``
IMAGE_LINK = re.compile(r"!\[[^\]]*\]\(([^)\s:]+\.png)\)")


def generate_benchmarks() -> None:
    """One page per committed ``benchmarks/results/*.md``, with the PNGs of the same stem."""
    out = DOCS / "benchmarks"
    stems = []
    for md in sorted(RESULTS.glob("*.md")):
        stems.append(md.stem)
        # the page holds the markdown itself, its image links rewritten from the results folder to
        # this page's; the PNGs of the same stem that it does not show come after it as figures
        body = md.read_text()
        shown = set(IMAGE_LINK.findall(body))
        text = IMAGE_LINK.sub(
            lambda m: m.group(0).replace(m.group(1), f"../../benchmarks/results/{m.group(1)}"), body
        )
        for png in sorted(RESULTS.glob(f"{md.stem}*.png")) + sorted((RESULTS / md.stem).glob("*.png")):
            if png.relative_to(RESULTS).as_posix() in shown:
                continue
            rel = png.relative_to(ROOT)
            text += f"\n```{{figure}} ../../{rel}\n{png.stem}\n```\n"
        write(out / f"{md.stem}.md", text)
    for page in out.glob("*.md"):
        if page.stem != "index" and page.stem not in stems:
            page.unlink()


# ---------------------------------------------------------------- the CLI reference


def _option_row(param, ctx) -> list:
    """An option's names with their metavar, and its help with the default, as ``--help`` shows."""
    names, help_text = param.get_help_record(ctx) or (" / ".join(param.opts), "")
    return [f"`{names}`", help_text]


def _argument_row(param, ctx) -> list:
    record = param.get_help_record(ctx) if hasattr(param, "get_help_record") else None
    names, help_text = record or (param.name.upper(), getattr(param, "help", "") or "")
    return [f"`{names}`", help_text]


def cli_reference() -> str:
    """Walk the click command tree of ``ketml`` (typer builds it; typer vendors its own click, so
    the classes are recognised by what they do, not by isinstance)."""
    import typer

    from qml.cli import app, load_commands

    load_commands()
    root = typer.main.get_command(app)
    lines = []

    def walk(command, path: list[str], depth: int) -> None:
        title = " ".join(path)
        lines.extend([f"{'#' * min(depth, 6)} `{title}`", ""])
        help_text = inspect.cleandoc(command.help or command.short_help or "")
        if help_text:
            lines.extend([help_text.split("\n\n")[0].replace("\b", "").strip(), ""])
        ctx = command.context_class(command, info_name=title)
        lines.extend(["```text", command.get_usage(ctx).strip(), "```", ""])
        args = [p for p in command.params if p.param_type_name == "argument"]
        opts = [p for p in command.params if p.param_type_name == "option" and not p.hidden]
        rows = [_argument_row(a, ctx) for a in args] + [_option_row(p, ctx) for p in opts]
        if rows:
            lines.append(table(["argument / option", "what"], rows))
        if hasattr(command, "list_commands"):
            for name in sorted(command.list_commands(ctx)):
                sub = command.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    walk(sub, [*path, name], depth + 1)

    walk(root, ["ketml"], 2)
    return "\n".join(lines)


# ---------------------------------------------------------------- tutorials


def copy_notebooks() -> None:
    """Copy ``examples/*.ipynb`` (with their stored outputs) into ``tutorials/``; drop stale copies."""
    out = DOCS / "tutorials"
    wanted = {nb.name for nb in (ROOT / "examples").glob("*.ipynb")}
    for nb in sorted((ROOT / "examples").glob("*.ipynb")):
        target = out / nb.name
        if not target.exists() or target.read_bytes() != nb.read_bytes():
            shutil.copyfile(nb, target)
    for stale in out.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()


def drop_type_docstrings(app, what, name, obj, options, lines) -> None:
    """Module constants without a doc comment would show their type's docstring (dict's, int's,
    typer.Typer's); show none instead."""
    if what in ("data", "attribute") and lines and inspect.getdoc(type(obj)):
        if "\n".join(lines).strip() == inspect.cleandoc(inspect.getdoc(type(obj))).strip():
            lines.clear()


def locate(path: str):
    """The object a dotted path names (``pkg.module.attr``), or raise LookupError."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except Exception:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                break
            obj = getattr(obj, attr)
        else:
            return obj
    raise LookupError(path)


_documented: dict[int, str] = {}


def resolve_by_object(app, env, node, contnode):
    """A Python reference that names an object by another path than the one it is documented under
    (its defining module, ``chemistry.ucc.run_uccsd`` for ``chemistry.run_uccsd``; or a name relative
    to the module the reference is in) links to where it is documented. A name that exists but is
    internal (not in any ``__all__``) renders as code without a link; a name that does not exist
    stays a broken reference (a warning, so an error under -W)."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    domain = env.get_domain("py")
    if not _documented:
        for name, entry in domain.objects.items():
            if entry.objtype == "module":
                continue
            try:
                _documented.setdefault(id(locate(name)), name)
            except LookupError:
                pass
    module = node.get("py:module") or ""
    scopes = [module.rsplit(".", i)[0] for i in range(module.count(".") + 1)] if module else []
    ours = [m for m in list(sys.modules) if m.split(".")[0] in app.config.ketml_api_packages]
    candidates = [target] + [f"{scope}.{target}" for scope in scopes]
    for candidate in candidates + [f"{m}.{target}" for m in ours]:
        try:
            obj = locate(candidate)
        except LookupError:
            continue
        name = _documented.get(id(obj))
        if name is not None:
            entry = domain.objects[name]
            return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, name)
        return contnode
    return None


def generate(app: Sphinx) -> None:
    generate_api(app)
    write(GEN / "capabilities.md", capabilities_table())
    write(GEN / "catalogue.md", catalogue_table())
    write(GEN / "cli.md", cli_reference())
    generate_results()
    generate_benchmarks()
    copy_notebooks()


def setup(app: Sphinx) -> dict:
    app.add_config_value("ketml_api_packages", ["circuits", "data", "qml", "chemistry"], "env")
    app.add_config_value("ketml_api_modules", [], "env")
    # config-inited runs before autosummary scans the sources (builder-inited), so the API pages
    # generated here get their stubs in the same build
    app.connect("config-inited", lambda app, config: generate(app), priority=100)
    app.connect("autodoc-process-docstring", drop_type_docstrings)
    app.connect("missing-reference", resolve_by_object)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
