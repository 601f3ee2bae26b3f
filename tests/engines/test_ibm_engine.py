"""The ibm engine on qiskit-ibm-runtime's fake backends (local testing mode): noisy and ideal
runs, one job per batch, cost reports, and the bad-input cases. No test touches the network."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from qiskit import QuantumCircuit
from qiskit.circuit.library import efficient_su2

import circuits
from circuits.engines import ibm_engine
from circuits.errors import EngineUnavailableError, KetmlError

pytest.importorskip("qiskit_ibm_runtime")


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("KETML_HOME", str(tmp_path / "ketml"))


def _case():
    qc = efficient_su2(3, reps=1)
    v = torch.tensor(np.random.default_rng(0).normal(size=(3, qc.num_parameters)))
    return qc, v


def test_noisy_run_is_close_to_ideal_but_not_equal():
    qc, v = _case()
    exact = circuits.expval(qc, ["ZZI", "IXI"], v, dtype="complex128")
    noisy = circuits.expval(qc, ["ZZI", "IXI"], v, engine="ibm", backend="fake_manila", seed=1)
    gap = (noisy - exact).abs().max().item()
    assert 0.005 < gap < 0.25  # noise and 4096 shots move it, but not far


def test_a_batch_and_its_gradient_are_two_jobs():
    qc, v = _case()
    eng = ibm_engine.IBMEngine("fake_manila", noise=False, precision=0.01, seed=2)
    v = v.clone().requires_grad_(True)
    circuits.expval(qc, "ZZI", v, engine=eng).sum().backward()
    records = eng.registry.list()
    assert len(records) == 2 and {r.status for r in records} == {"done"}
    (fwd_pub,), (grad_pub,) = [eng.registry.payload(r) for r in reversed(records)]
    k = fwd_pub[2].shape[-1]
    assert fwd_pub[2].shape == (3, 1, k) and grad_pub[2].shape == (3 * 2 * k, 1, k)
    ref = v.detach().clone().requires_grad_(True)
    circuits.expval(qc, "ZZI", ref, dtype="complex128").sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), ref.grad.numpy(), atol=0.1)


def test_cost_report_and_sampling_keys():
    qc = QuantumCircuit(3, 2)
    qc.x(0)
    qc.h(2)
    qc.measure(0, 1)
    qc.measure(1, 0)
    eng = ibm_engine.IBMEngine("fake_manila", noise=False, seed=4)
    report = eng.cost(qc, measured=True)
    assert report["backend"] == "fake_manila" and report["depth"] >= 2
    assert report["two_qubit_gates"] >= 0 and report["duration_s"] is None or report["duration_s"] > 0
    counts = circuits.sample(qc, shots=200, engine=eng)[0]
    assert counts == {"10": 200}


def test_quantum_layer_trains_on_a_fake_backend():
    from circuits.library import angle_encoding

    theta = angle_encoding(1, rotation="ry", inputs="theta")
    layer = circuits.QuantumLayer(
        theta,
        "Z",
        inputs=None,
        engine="ibm",
        backend="fake_manila",
        noise=False,
        precision=0.01,
        seed=5,
        initial_weights=torch.tensor([0.3]),
    )
    opt = torch.optim.SGD(layer.parameters(), lr=0.4)
    losses = []
    for _ in range(4):  # drive <Z> = cos(theta) towards -1
        opt.zero_grad()
        loss = layer().sum()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 0.2


def test_bad_input_is_named(monkeypatch, tmp_path):
    qc, v = _case()
    with pytest.raises(KetmlError, match="unknown fake backend"):
        ibm_engine.IBMEngine("fake_nowhere")
    with pytest.raises(KetmlError, match="unknown mode"):
        ibm_engine.IBMEngine("fake_manila", mode="marathon")
    wide = efficient_su2(6, reps=1)
    with pytest.raises(KetmlError, match="6 qubits but backend 'fake_manila' has 5"):
        circuits.expval(wide, "Z" * 6, np.zeros(wide.num_parameters), engine="ibm", backend="fake_manila")
    # no account anywhere: a clear error that says how to configure one, and never the token
    monkeypatch.delenv("QISKIT_IBM_TOKEN", raising=False)
    monkeypatch.delenv("QISKIT_IBM_INSTANCE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("QISKIT_IBM_RUNTIME_CONFIG_PATH", str(tmp_path / "none.json"))
    with pytest.raises(EngineUnavailableError, match="QISKIT_IBM_TOKEN") as exc:
        ibm_engine.IBMEngine("ibm_brisbane")
    assert "fake_manila" in str(exc.value)
    monkeypatch.setenv("QISKIT_IBM_TOKEN", "s3cret-t0ken-value")
    monkeypatch.setenv("QISKIT_IBM_INSTANCE", "not-a-crn")
    with pytest.raises(KetmlError) as exc:
        ibm_engine.IBMEngine("ibm_brisbane", channel="not_a_channel")
    assert "s3cret-t0ken-value" not in str(exc.value)


@pytest.mark.parametrize("mode", ["batch", "session"])
def test_batch_and_session_modes(mode):
    qc, v = _case()
    eng = ibm_engine.IBMEngine("fake_manila", noise=False, precision=0.01, seed=3, mode=mode)
    out = circuits.expval(qc, "ZZI", v, engine=eng)
    exact = circuits.expval(qc, "ZZI", v, dtype="complex128")
    eng.close()
    assert (out - exact).abs().max().item() < 0.05
    assert eng.registry.list()[0].mode == mode


def test_transient_runtime_error_is_retried(monkeypatch):
    from circuits.jobs import RetryPolicy

    class RequestsApiError(Exception):
        status_code = 503

    qc, v = _case()
    sleeps: list[float] = []
    eng = ibm_engine.IBMEngine(
        "fake_manila",
        noise=False,
        precision=0.01,
        seed=3,
        retry=RetryPolicy(attempts=3, base_delay=0.25, sleep=sleeps.append),
    )
    real = eng.runner._primitive
    calls = {"n": 0}

    def flaky(kind, tags):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RequestsApiError("503 Service Unavailable")
        return real(kind, tags)

    monkeypatch.setattr(eng.runner, "_primitive", flaky)
    out = circuits.expval(qc, "ZZI", v, engine=eng)
    assert out.shape == (3, 1) and sleeps == [0.25] and calls["n"] == 2
    (rec,) = eng.registry.list()
    assert rec.status == "done" and rec.attempts == 1

    class IBMInputValueError(Exception):
        pass

    def invalid(kind, tags):
        raise IBMInputValueError("circuit is not ISA for this backend")

    monkeypatch.setattr(eng.runner, "_primitive", invalid)
    with pytest.raises(KetmlError, match="not ISA"):
        circuits.expval(qc, "ZZI", v * 2, engine=eng)
    assert eng.registry.list(status="failed")[0].error.startswith("IBMInputValueError")
    assert sleeps == [0.25]  # a permanent error is not retried
