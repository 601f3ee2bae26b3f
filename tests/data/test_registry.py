"""The dataset catalogue: every dataset the toolkit uses is listed once, with a loader, a kind,
checksummed files where it has files, and an honest present/missing status."""

from __future__ import annotations

import hashlib
import io
import urllib.request
from pathlib import Path

import pytest

import data
from circuits.errors import ConfigurationError, DataError, KetmlError, UnknownNameError
from data.registry import KINDS, Dataset, as_row, fetch, resolve_kind, shared_copy, status

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"

IMAGES = {"mnist", "fashion-mnist", "cifar10", "cifar100", "stl10", "digits"}
TIME_SERIES = (
    "damped-shm",
    "bessel-j2",
    "narma5",
    "narma10",
    "delayed-control",
    "corrosion",
    "narma10-reservoirpy",
    "mackey-glass",  # data/corrosion.py, data/reservoir_series.py
)
BIT_SEQUENCES = ("mnist-pixels-01", "mnist-pixels-36", "elman-xor", "elman-letter")  # module order
RL = ("cartpole", "minigrid-empty-5x5", "minigrid-empty-6x6", "minigrid-doorkey-5x5")
SENTENCES = {"lambeq-mc", "lambeq-rp", "lambeq-discocirc-mc"}
MOLECULES = {"H2", "LiH", "BeH2", "N2", "H2O"}


def test_catalogue_lists_every_dataset_the_toolkit_uses():
    assert set(data.names("images")) == IMAGES
    assert data.names("time series") == TIME_SERIES  # the order ketml train lists them in
    assert data.names("bit sequences") == BIT_SEQUENCES
    assert data.names("RL environment") == RL
    assert set(data.names("sentences")) == SENTENCES
    # within a kind, the order is that of registration, which depends on what was imported first
    assert set(data.names("QASM corpus")) == {
        "algorithm-circuits",
        "algorithm-circuits-quick",
        "qasmbench",
        "llm-circuit-records",
    }
    assert set(data.names("tables")) == {"corrosion-iso9223", "gaussian-classes"}
    assert set(data.names("molecules")) == MOLECULES
    everything = data.catalogue()
    assert len(everything) == len({d.name for d in everything}) == 36
    assert [d.kind for d in everything] == sorted((d.kind for d in everything), key=KINDS.index)


def test_every_entry_is_complete():
    for d in data.catalogue():
        assert d.kind in KINDS and d.description and d.source and d.licence and d.size, d.name
        assert d.how_to_get and d.loader is not None, d.name
        assert all(f.sha256 or f.md5 for f in d.files), d.name
        assert callable(d.loader) or d.kind == "molecules", d.name  # chemistry is named, not imported
    assert data.get("narma10").loader_path == "data.sequences:narma(order=10)"
    assert data.get("cartpole").loader_path == "data.environments:make_env('cartpole')"
    assert data.get("H2O").loader_path == "chemistry:molecule"


def test_loaders_in_the_catalogue_produce_the_data():
    u, y = data.get("narma5").loader()
    assert u.shape == y.shape == (240,)
    x, targets, mask = data.get("elman-xor").loader(4)
    assert x.shape == (4, 36, 2) and mask.sum() == 4 * 12  # every third step is scored
    assert data.get("digits").loader("test").images.shape[1:] == (1, 8, 8)


def test_get_and_kinds():
    assert data.get("h2o") is data.get("H2O")  # case does not matter when unambiguous
    with pytest.raises(UnknownNameError, match="unknown dataset 'imagenet'; known: mnist, fashion") as info:
        data.get("imagenet")
    assert isinstance(info.value, KeyError) and isinstance(info.value, KetmlError)
    assert "cartpole" in str(info.value) and "qasmbench" in str(info.value)
    assert resolve_kind("rl-environment") == "RL environment" and resolve_kind("Image") == "images"
    with pytest.raises(UnknownNameError, match="unknown dataset kind 'audio'"):
        data.catalogue("audio")
    with pytest.raises(ConfigurationError, match="kind 'audio'"):
        Dataset("x", "audio", "d")
    with pytest.raises(ConfigurationError, match="already registered"):
        data.register(Dataset("mnist", "images", "another mnist"))


def test_status_checks_files_without_downloading(tmp_path, monkeypatch):
    monkeypatch.setenv("KETML_DATA", str(tmp_path))
    mc = data.get("lambeq-mc")
    assert mc.directory == tmp_path / "lambeq-qnlp"
    assert status(mc) == data.Status(False, "missing", "3 of 3 files missing", str(tmp_path / "lambeq-qnlp"))
    (tmp_path / "lambeq-qnlp").mkdir()
    (tmp_path / "lambeq-qnlp" / "mc_dev_data.txt").write_text("1  man cooks .\n")
    bad = status(mc)
    assert not bad.present and bad.state == "corrupt" and "mc_dev_data.txt: sha256" in bad.detail
    (tmp_path / "cifar10" / "cifar-10-batches-py").mkdir(parents=True)
    assert status("cifar10").state == "extracted" and status("cifar10").present
    assert status("damped-shm") == data.Status(True, "generated", "generated on the fly")
    assert status("mnist-pixels-01") == data.Status(False, "missing", "needs mnist")
    ghost = Dataset("ghost", "RL environment", "d", requires=("no_such_module_here",))
    assert status(ghost) == data.Status(False, "needs-install", "needs no_such_module_here")
    row = as_row(mc)
    assert row["present"] is False and row["status"] == "corrupt"
    assert row["files"][0]["url"].startswith("https://raw.githubusercontent.com/CQCL/lambeq-docs/40d8dc84")


def test_fetch_downloads_and_verifies_sentences(tmp_path, monkeypatch):
    shared = SHARED / "lambeq-qnlp"
    if not (shared / "rp_test_data.txt").is_file():
        pytest.skip(f"no shared lambeq copy at {shared}")
    monkeypatch.setenv("KETML_DATA", str(tmp_path))
    asked = []

    class Response(io.BytesIO):
        headers: dict = {}

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def serve(url, timeout=None):
        asked.append(url)
        return Response((shared / url.rsplit("/", 1)[1]).read_bytes())

    monkeypatch.setattr(urllib.request, "urlopen", serve)
    paths = fetch("lambeq-rp")
    assert [p.name for p in paths] == ["rp_train_data.txt", "rp_test_data.txt"]
    assert all(u.endswith(p.name) for u, p in zip(asked, paths, strict=True))
    assert status("lambeq-rp").state == "ok"
    rows = data.sentences.load_sentences("lambeq-rp", "test")
    assert len(rows) == 31 and sum(label for label, _ in rows) == 19
    with pytest.raises(ConfigurationError, match="splits train, test; got 'dev'"):
        data.sentences.load_sentences("lambeq-rp", "dev")


@pytest.fixture
def shared_home(monkeypatch):
    if not SHARED.is_dir():
        pytest.skip(f"the shared data copy is not at {SHARED}")
    monkeypatch.setenv("KETML_DATA", str(SHARED))
    return SHARED


def test_registered_checksums_match_the_shared_copies(shared_home):
    for d in data.catalogue():
        if not d.files or d.directory is None or not d.directory.is_dir():
            continue
        sums = d.directory / "SHA256SUMS"
        if sums.is_file():
            listed = dict(reversed(line.split(maxsplit=1)) for line in sums.read_text().splitlines())
            for f in d.files:
                if f.name in listed:
                    assert f.sha256 == listed[f.name], (d.name, f.name)
        assert status(d).state == "ok", (d.name, status(d))
    for name in ("mnist", "fashion-mnist", "lambeq-mc", "qasmbench", "corrosion-iso9223"):
        assert status(name).present, name
    manifest = (shared_home / "qasmbench" / "MANIFEST.tsv").read_bytes()
    assert data.get("qasmbench").files[0].sha256 == hashlib.sha256(manifest).hexdigest()


def test_shared_copy_is_named_when_the_data_folder_lacks_it(shared_home, tmp_path, monkeypatch):
    monkeypatch.setenv("KETML_DATA", str(tmp_path))
    assert shared_copy("mnist") == shared_home / "mnist"
    assert f"export KETML_DATA={shared_home}" in as_row(data.get("mnist"))["how_to_get"]
    assert shared_copy("cifar10") is None and shared_copy("digits") is None


def test_small_loaders_read_the_shared_files(shared_home):
    mc = data.sentences.load_sentences("lambeq-mc", "train", download=False)
    assert len(mc) == 70 and sum(label for label, _ in mc) == 39
    assert mc[0] == (1, "skillful man prepares sauce .")
    aluminium = next(
        r
        for r in data.tables.load_table("corrosion-iso9223", "iso9223_2012_dose_response_coefficients")
        if r["metal"] == "aluminium"
    )
    assert float(aluminium["a_so2"]) == 0.0042 and float(aluminium["p_so2"]) == 0.73
    rows = data.get("qasmbench").loader()
    assert len(rows) == 125 and sum(r["qiskit_qasm2_parse"] == "ok" for r in rows) == 119


def test_malformed_sentence_file_is_a_data_error(tmp_path):
    path = tmp_path / "s.txt"
    path.write_text("1  fine sentence .\nnot-a-label sentence\n")
    with pytest.raises(DataError, match="s.txt:2: expected '<label> <sentence>'"):
        data.sentences.read_labelled_sentences(path)


def test_molecule_names_match_chemistry():
    chemistry = pytest.importorskip("chemistry")
    assert set(data.names("molecules")) == set(chemistry.GEOMETRIES)


def test_error_types_of_the_loaders(tmp_path):
    from data.cache import ChecksumError, DataNotFoundError

    assert issubclass(ChecksumError, DataError) and issubclass(DataNotFoundError, FileNotFoundError)
    assert issubclass(DataNotFoundError, KetmlError)
    with pytest.raises(ConfigurationError, match="split"):
        data.load_mnist("validation", root=tmp_path)
    with pytest.raises(ConfigurationError, match="order"):
        data.sequences.narma(order=1)
    with pytest.raises(DataNotFoundError, match="MANIFEST.tsv"):
        data.qasm_corpus.qasmbench_manifest(root=tmp_path)
