"""Each engine's declared ``Capabilities`` match what it does: state vectors, mid-circuit
operations, exact values, the gradient method and shots."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector
from qiskit.quantum_info import Statevector

import circuits
from circuits import engines
from circuits.errors import EngineUnavailableError, UnsupportedOperationError

from .cases import ENGINES, engine_params, make_engine, tolerance


def _circuit() -> QuantumCircuit:
    x = ParameterVector("x", 3)
    qc = QuantumCircuit(2)
    qc.ry(x[0], 0)
    qc.cx(0, 1)
    qc.rx(x[1], 1)
    qc.rz(x[2], 0)
    qc.h(1)
    return qc


def _dynamic() -> QuantumCircuit:
    qc = QuantumCircuit(2, 1)
    qc.h(0)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 1)):
        qc.x(1)
    qc.reset(0)
    qc.ry(0.4, 0)
    return qc


VALUES = torch.tensor([[0.3, -0.7, 1.1], [1.4, 0.2, -0.5]], dtype=torch.float64)


def test_every_registered_engine_declares_frozen_capabilities():
    caps = engines.capabilities()
    assert list(caps)[0] == "torch" and set(ENGINES) <= set(caps)
    for name, c in caps.items():
        assert isinstance(c, engines.Capabilities), name
        assert c.gradient in ("backprop+adjoint", "pennylane", "parameter-shift"), name
        with pytest.raises(dataclasses.FrozenInstanceError):
            c.exact = not c.exact
    assert engines.capabilities_of("torch") is caps["torch"]
    assert engines.capabilities_of(make_engine("torch")) is caps["torch"]
    assert engines.capabilities_of("nope") is None


def test_register_requires_capabilities_and_unknown_names_are_key_errors():
    with pytest.raises(TypeError, match="Capabilities"):
        engines.register("mine", "circuits.engines.torch_engine:TorchEngine", {"statevector": True})
    assert "mine" not in engines.capabilities()
    with pytest.raises(KeyError, match="unknown engine 'mine'") as info:
        engines.get("mine")
    assert isinstance(info.value, EngineUnavailableError)
    assert str(info.value).startswith("unknown engine 'mine'")  # not quoted like a plain KeyError


@pytest.mark.parametrize("name", engine_params())
def test_statevector_capability(name):
    qc, eng = _circuit(), make_engine(name)
    if not engines.capabilities()[name].statevector:
        with pytest.raises(UnsupportedOperationError, match=f"the {name} engine has no state vector"):
            circuits.statevector(qc, VALUES, engine=eng)
        return
    state = circuits.statevector(qc, VALUES, engine=eng)
    ref = circuits.statevector(qc, VALUES, engine=make_engine("torch"))
    assert state.shape == (2, 4) and state.is_complex()
    np.testing.assert_allclose(state.numpy(), ref.numpy(), atol=1e-6)


@pytest.mark.parametrize("name", engine_params())
def test_mid_circuit_capability(name):
    qc = _dynamic()
    eng = make_engine(name) if name != "aer" else engines.get("aer", method="density_matrix")
    caps = engines.capabilities()[name]
    assert caps.mid_circuit_sample or not caps.mid_circuit  # expval on dynamic circuits implies sample
    if caps.mid_circuit_sample:  # the one classical bit reads H|0>: 0 or 1, half the shots each
        counts = circuits.sample(qc, shots=400, seed=2, engine=eng)[0]
        assert set(counts) == {"0", "1"} and 140 < counts["1"] < 260
    else:
        with pytest.raises(UnsupportedOperationError, match="mid-circuit"):
            circuits.sample(qc, shots=10, engine=eng)
    if not caps.mid_circuit:
        with pytest.raises(UnsupportedOperationError, match="mid-circuit"):
            circuits.expval(qc, ["ZI", "IZ"], engine=eng)
        return
    out = circuits.expval(qc, ["ZI", "IZ"], engine=eng).double().numpy()[0]
    # qubit 0: reset then ry(0.4) -> <Z> = cos 0.4; qubit 1 flipped on outcome 1 (p = 1/2) -> <Z> = 0
    np.testing.assert_allclose(out, [0.0, np.cos(0.4)], atol=1e-6)


@pytest.mark.parametrize("name", engine_params())
def test_exact_capability(name):
    """Exact engines agree with Qiskit to 1e-6; estimating ones only to their shot tolerance."""
    qc, eng = _circuit(), make_engine(name)
    out = circuits.expval(qc, ["ZZ", "XI", "IY"], VALUES, engine=eng).double().numpy()
    ref = [
        [
            Statevector(qc.assign_parameters(v.tolist()))
            .expectation_value(circuits.observables.as_observables(o, 2)[0])
            .real
            for o in ["ZZ", "XI", "IY"]
        ]
        for v in VALUES
    ]
    exact = engines.capabilities()[name].exact
    np.testing.assert_allclose(out, ref, atol=1e-6 if exact else 3 * tolerance(name))


@pytest.mark.parametrize("name", engine_params())
def test_gradient_capability(name):
    """Parameter-shift engines differentiate through the shift rule, the others through their own
    graphs; either way the gradient is torch's."""
    qc, eng = _circuit(), make_engine(name)
    grads = []
    for e in (eng, make_engine("torch")):
        values = VALUES.clone().requires_grad_(True)
        out = circuits.expval(qc, ["ZZ", "XI"], values, engine=e)
        if e is eng:
            shifted = "ParameterShift" in type(out.grad_fn).__name__
            assert shifted == (engines.capabilities()[name].gradient == "parameter-shift")
        out.sum().backward()
        grads.append(values.grad.numpy())
    assert np.abs(grads[1]).max() > 1e-2
    tol = 1e-6 if engines.capabilities()[name].exact else 0.2
    np.testing.assert_allclose(grads[0], grads[1], atol=tol)


@pytest.mark.parametrize("name", engine_params())
def test_shots_capability(name):
    qc, eng = _circuit(), make_engine(name)
    assert engines.capabilities()[name].shots
    counts = circuits.sample(qc, VALUES[:1], shots=200, seed=3, engine=eng)[0]
    assert sum(counts.values()) == 200 and all(len(k) == 2 for k in counts)
    est = circuits.expval(qc, ["ZZ"], VALUES[:1], shots=2000, seed=3, engine=eng)
    assert est.shape == (1, 1) and abs(float(est[0, 0])) <= 1.0
