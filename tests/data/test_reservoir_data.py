"""The reservoir benchmarks' data: NARMA-10 and Mackey-Glass through reservoirpy (with NARMA-10's
parameters, not reservoirpy's defaults), and the synthetic ISO 9223/9224 corrosion generator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import data
from circuits.errors import ConfigurationError

pytest.importorskip("reservoirpy")
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def test_narma10_obeys_the_narma10_recurrence():
    u, y = data.get("narma10-reservoirpy").loader(300, seed=4)
    u, y = u.numpy(), y.numpy()
    assert u.shape == y.shape == (300,) and 0 <= u.min() and u.max() <= 0.5
    for t in range(20, 299):
        expect = 0.3 * y[t] + 0.05 * y[t] * y[t - 10 : t].sum() + 1.5 * u[t - 10] * u[t] + 0.1
        assert abs(y[t + 1] - expect) < 1e-12
    u2, _ = data.get("narma10-reservoirpy").loader(300, seed=5)
    assert not np.allclose(u, u2.numpy())


def test_mackey_glass_is_reservoirpys_with_tau_17():
    from reservoirpy.datasets import mackey_glass

    ours = data.get("mackey-glass").loader(500).numpy()
    assert np.allclose(ours, mackey_glass(500, tau=17, seed=0)[:, 0])
    assert not np.allclose(ours, mackey_glass(500, tau=30, seed=0)[:, 0])


@pytest.fixture
def shared_home(monkeypatch):
    if not (SHARED / "corrosion").is_dir():
        pytest.skip("the shared corrosion tables are not here")
    monkeypatch.setenv("KETML_DATA", str(SHARED))
    data.corrosion.iso_coefficients.cache_clear()
    return SHARED


def test_iso9223_rate_and_iso9224_power_law(shared_home):
    from data.corrosion import drf_rate, iso9224_loss, iso_coefficients

    c = iso_coefficients()
    # the data README's sanity check: RH 80 %, 15 °C, Pd 20, Sd 60 -> 0.65 µm/a = 1.75 g/m²a (class C3)
    r = float(drf_rate(15.0, 80.0, 20.0, 60.0, c))
    assert abs(r - 0.65) < 0.01 and 0.6 < r * 2.70 < 2.0
    t = np.linspace(0.01, 5, 500)
    assert np.allclose(iso9224_loss(np.full(500, r), t, c["b"]), r * t ** c["b"])  # constant climate
    assert c["b"] == 0.728


def test_corrosion_series_is_deterministic_monotone_and_site_dependent(shared_home):
    x, loss = data.get("corrosion").loader("coastal", years=1.0, seed=1)
    x2, loss2 = data.corrosion.corrosion_series("coastal", years=1.0, seed=1)
    assert x.shape == (1461, 5) and np.array_equal(loss.numpy(), loss2.numpy())
    clean = data.corrosion.corrosion_series("coastal", years=1.0, seed=1, noise=0.0)[1].numpy()
    assert (np.diff(clean) > 0).all()  # loss only grows
    rural = data.corrosion.corrosion_series("rural", years=1.0, seed=1, noise=0.0)[1].numpy()
    assert clean[-1] > 2 * rural[-1]  # chloride deposition corrodes
    temp = x.numpy()[:, 1]
    assert temp[730 - 120 : 730 + 120].mean() > temp[:120].mean() + 5  # summer warmer than January
    with pytest.raises(ConfigurationError, match="unknown corrosion site"):
        data.corrosion.corrosion_series("mars")
    with pytest.raises(ConfigurationError, match="ISO 9224"):
        data.corrosion.corrosion_series("rural", years=30)
    assert data.status("corrosion").present
