"""Reservoir models end to end: bad input gets one clear error each, the readout and memory
capacity agree with reservoirpy, the knobs move the memory as designed, the onion ESN's blocks
sit on their circles, and ``ketml train`` fits a readout through the registry."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from circuits.errors import ConfigurationError, DataError
from qml import registry
from qml.reservoir import (
    ClassicalReservoir,
    FeatureMap,
    OnionQRC,
    QuantumReservoir,
    fit_forecast,
    fit_ridge,
    make_series,
    memory_capacity,
    onion_matrix,
    spectra,
)

reservoirpy = pytest.importorskip("reservoirpy")


def test_bad_input_gets_one_clear_error_each():
    res = QuantumReservoir(3, 0.5)
    with pytest.raises(DataError, match="NaN"):
        res.features(np.array([0.1, np.nan, 0.3]))
    with pytest.raises(DataError, match=r"shape \(T,\)"):
        res.features(np.zeros((1, 2, 3, 1)))
    with pytest.raises(DataError, match="takes 1 input"):
        res.features(np.zeros((10, 2)))
    with pytest.raises(ConfigurationError, match="4 mid-circuit measurements on a 3-qubit"):
        QuantumReservoir(3, 0.5, measurements=4)
    with pytest.raises(DataError, match="horizon 50 on a series of 120 steps"):
        make_series(np.zeros((120, 1)), np.zeros(120), 50)
    with pytest.raises(DataError, match="NaN"):
        make_series(np.zeros((200, 1)), np.r_[np.zeros(199), np.nan], 1)
    with pytest.raises(ConfigurationError, match="unknown entangler"):
        QuantumReservoir(3, 0.5, entangler="brick")
    with pytest.raises(ConfigurationError, match="3 reservoirs need 3 angles"):
        OnionQRC(3, 3, angles=[0.1, 0.2])
    with pytest.raises(ConfigurationError, match="unknown option.*qbits.*known:.*qubits"):
        registry.get("onion-qrc").build({"n_inputs": 1}, qbits=4)


def test_ridge_equals_reservoirpy_and_validation_picks_the_regulariser():
    from reservoirpy.nodes import Ridge

    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(200, 12)), rng.normal(size=(200, 2))
    ours = fit_ridge(X, Y, alphas=[0.3])
    ref = Ridge(ridge=0.3).fit(X, Y)
    assert np.allclose(ours.W, ref.Wout, atol=1e-10) and np.allclose(ours.b, ref.bias, atol=1e-10)
    # 60 noisy samples, 50 useless features: validation must prefer a large alpha over ~0
    w = np.zeros(50)
    w[0] = 1.0
    X = rng.normal(size=(120, 50))
    y = X @ w + rng.normal(scale=1.0, size=120)
    picked = fit_ridge(X[:60], y[:60], X[60:], y[60:], alphas=[1e-8, 30.0])
    assert picked.alpha == 30.0


def test_memory_capacity_matches_reservoirpy_and_the_knobs_move_it():
    from reservoirpy.nodes import Reservoir, Ridge
    from reservoirpy.observables import memory_capacity as rpy_mc

    ref = rpy_mc(Reservoir(100, sr=1, seed=1) >> Ridge(ridge=1e-4), k_max=50, seed=1)
    node = Reservoir(100, sr=1, seed=1)
    ours = memory_capacity(lambda u: np.asarray(copy.deepcopy(node).run(u)), 50, seed=1)
    assert abs(ref - 18.78) < 0.01 and abs(ours - ref) < 1e-8
    mc = []
    for m in (1, 2, 3):
        res = QuantumReservoir(5, 0.5, measurements=m, paulis="XYZ")
        states = lambda u, r=res: r.features((u + 0.8) / 1.6).numpy()  # noqa: E731
        mc.append(memory_capacity(states, 50, seed=1, ridge=1e-6))
    assert mc[0] > mc[1] > mc[2] and mc[0] > 8  # more mid-circuit measurements: shorter memory


def test_onion_spectra_occupy_different_annuli():
    onion = OnionQRC(3, 4, angles=[0.3, 0.8, 1.5], measurements=2)
    second = [np.sort(np.abs(ev))[-2] for ev in spectra(onion)]
    assert second[0] > second[1] > second[2]  # a larger angle contracts faster
    W = onion_matrix([4, 4, 4], [0.2, 0.5, 0.9], seed=1)
    moduli = np.sort(np.abs(np.linalg.eigvals(W)))
    assert np.allclose(moduli, np.repeat([0.2, 0.5, 0.9], 4))
    assert onion.features(np.linspace(0, 1, 20)).shape == (20, onion.n_features)


def test_quantum_and_classical_features_forecast_narma10():
    series = make_series(*_narma(900), 1, washout=50)
    ar = fit_forecast(FeatureMap("linear-ar", 1), series)["nrmse"]
    onion = fit_forecast(FeatureMap("onion-qrc", 1, reservoirs=2, qubits=4, paulis="XYZ"), series)["nrmse"]
    esn = fit_forecast(FeatureMap("esn", 1, units=50), series)["nrmse"]
    assert onion < ar and esn < ar  # memory beyond 10 linear lags pays on NARMA-10
    persistence = fit_forecast(FeatureMap("persistence", 1), series)
    assert np.allclose(persistence["pred"], series.current[series.val_end :])
    assert ClassicalReservoir(40, onion=4).states(np.zeros(7)).shape == (7, 40)


def _narma(n):
    from data.reservoir_series import narma10

    u, y = narma10(n, seed=2)
    return u.numpy()[:, None], y.numpy()


def test_registered_models_train_through_the_task(tmp_path):
    from qml.training.experiment import train

    for name in ("onion-qrc", "qrc", "esn", "onion-esn"):
        assert registry.get(name).tasks == ("reservoir-forecast",)
    assert registry.task_for("mackey-glass", registry.get("onion-qrc")).name == "reservoir-forecast"
    run_dir, metrics = train(
        "onion-qrc",
        "narma10-reservoirpy",
        out=tmp_path,
        progress=False,
        model_options={"reservoirs": 2, "qubits": 4},
        data_options={"n_points": 1000, "washout": 50},
    )
    assert 0 < metrics["test_nrmse"] < 0.85 and (run_dir / "model.pt").is_file()
    assert metrics["n_features"] == 2 * (4 + 6) + 1  # Z_i, Z_iZ_j per reservoir, and the input
