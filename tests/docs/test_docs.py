"""The documentation site builds cleanly, documents every public name, and opens in a browser.

The build is the real one (``-W --keep-going -n``: any warning, a broken cross-reference included,
fails it), run once per test session into a temporary folder and shared by the xdist workers. It
needs the ``docs`` extra (``make docs`` installs it); without it these tests skip and say so.
Where ``KETML_DOCS_HTML`` names a site just built by ``make docs`` (``.ci/run`` does this), the
checks read that one instead of building again. The doctests of the API pages run in the default
suite through pytest's ``--doctest-modules`` (see ``testpaths`` in pyproject.toml).
"""

from __future__ import annotations

import html
import importlib
import importlib.util
import json
import os
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("circuits", "data", "qml", "chemistry")
DOCS_EXTRA = ("sphinx", "myst_nb", "furo")


def build(out: Path) -> Path:
    """Build the site into ``out/html``; fail with Sphinx's output on any warning."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-n",
        "-q",
        "-b",
        "html",
        "-d",
        str(out / "doctrees"),
        str(ROOT / "docs"),
        str(out / "html"),
    ]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"docs build failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    return out / "html"


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built site: ``$KETML_DOCS_HTML``, or one build per session shared by every xdist worker."""
    if os.environ.get("KETML_DOCS_HTML"):
        html = Path(os.environ["KETML_DOCS_HTML"]).resolve()
        assert (html / "index.html").is_file(), f"KETML_DOCS_HTML={html} holds no built site"
        return html
    missing = [m for m in DOCS_EXTRA if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"the docs extra is not installed ({', '.join(missing)} missing): run `make docs`")
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent  # the same folder for every worker of this run
    out = shared / "docs-site"
    with FileLock(str(shared / "docs-site.lock")):
        done = out / "built"
        if done.is_file():
            return out / "html"
        html = build(out)
        done.write_text("ok")
    return html


def api_packages() -> list[str]:
    """The packages whose ``__all__`` the reference must cover: the roots and every subpackage
    of theirs that declares ``__all__`` (found here independently of the docs extension)."""
    found = []
    for name in PACKAGES:
        root = importlib.import_module(name)
        found.append(name)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{name}.", onerror=lambda _: None):
            if info.ispkg and not any(p.startswith("_") for p in info.name.split(".")):
                try:
                    module = importlib.import_module(info.name)
                except ImportError:
                    continue
                if hasattr(module, "__all__"):
                    found.append(info.name)
    return found


def test_every_public_name_is_in_the_api_reference(site: Path):
    ids: set[str] = set()
    pages = sorted((site / "api").rglob("*.html"))
    assert len(pages) > 50, f"only {len(pages)} API pages were built"
    for page in pages:
        ids.update(re.findall(r'id="([^"]+)"', page.read_text(errors="replace")))
    missing = []
    packages = api_packages()
    assert {"qml.vision", "qml.sequence", "chemistry.gqe"} <= set(packages)
    for package in packages:
        for name in importlib.import_module(package).__all__:
            full = f"{package}.{name}"
            # documented under its own name, as a module page, or in the subpackage it comes from
            if full in ids or f"module-{full}" in ids:
                continue
            if any(i.startswith(f"{package}.") and i.endswith(f".{name}") for i in ids):
                continue
            missing.append(full)
    assert not missing, f"public names missing from the API reference: {missing}"


def test_generated_tables_come_from_the_code_and_results(site: Path):
    import circuits.engines
    import data

    concepts = (site / "concepts.html").read_text()
    for engine in circuits.engines.capabilities():
        assert f'<code class="docutils literal notranslate"><span class="pre">{engine}</span>' in concepts
    catalogue = (site / "data.html").read_text()
    assert all(f">{ds.name}<" in catalogue for ds in data.catalogue())
    hybrid = (site / "families" / "10_vision.html").read_text()

    results = json.loads((ROOT / "benchmarks" / "results" / "repro_hybrid.json").read_text())
    for entry in results["entries"]:
        assert f"{100 * entry['test_accuracy']:.2f} %" in hybrid
    cli = html.unescape(re.sub(r"<[^>]+>", "", (site / "cli.html").read_text()))
    assert "ketml chem gqe" in cli and "ketml train" in cli and "--molecule" in cli


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def dump_dom(url: str, extra: tuple[str, ...] = ()) -> str:
    cmd = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--allow-file-access-from-files",
        *extra,
        "--dump-dom",
        url,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.skipif(chromium() is None, reason="Chromium is not installed (Debian: apt-get install chromium)")
@pytest.mark.parametrize(
    ("page", "title", "needs_image"),
    [
        ("index.html", "ketml", False),
        ("api/generated/circuits.expval.html", "circuits.expval", False),
        ("tutorials/01_quickstart.html", "ketml quick start", True),
    ],
)
def test_pages_render_in_headless_chromium(
    site: Path, tmp_path: Path, page: str, title: str, needs_image: bool
):
    path = site / page
    dom = dump_dom(path.as_uri())
    match = re.search(r"<title>(.*?)</title>", dom, re.S)
    assert match and title in match.group(1), f"{page}: title {match and match.group(1)!r}"
    assert "<article" in dom and len(re.sub(r"<[^>]+>", "", dom)) > 500, f"{page} rendered almost nothing"
    if needs_image:
        sources = re.findall(r'<img[^>]+src="([^"]+\.png)"', dom)
        assert sources, f"{page}: no image in the rendered tutorial"
        for src in sources:
            image = (path.parent / src).resolve()
            assert image.is_file() and image.stat().st_size > 1000, f"{page}: image {src} is missing or empty"
    # and the page paints: a screenshot that is not a blank canvas
    shot = tmp_path / "page.png"
    cmd = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--window-size=1200,900",
        f"--screenshot={shot}",
        path.as_uri(),
    ]
    subprocess.run(cmd, capture_output=True, timeout=120, check=True)
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.reshape(-1, pixels.shape[-1]).std(axis=0).max() > 0.05, f"{page}: blank screenshot"
