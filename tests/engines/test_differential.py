"""The differential suite: every engine agrees with Qiskit's Statevector and with the torch engine.

Seeded random circuits over the full standard gate set, with parameter expressions,
and random Pauli sums: state vectors, expectation values and gradients to 1e-6 in
double precision (1e-4 in single), sampled distributions by a chi-square test, and
mid-circuit measurement/reset/feed-forward between the torch engine (density matrix)
and Aer.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from qiskit import QuantumCircuit
from qiskit.quantum_info import Statevector
from scipy.stats import chi2_contingency, chisquare

import circuits
from circuits.errors import MemoryLimitError

from ..circuits.helpers import bound, random_circuit, random_pauli_sum, reference_state
from .branching import branch_expval
from .cases import (
    APPROXIMATE,
    DYNAMIC,
    DYNAMIC_SAMPLE,
    ENGINES,
    NO_STATEVECTOR,
    engine_params,
    make_engine,
    random_dynamic_circuit,
    tolerance,
    values_for,
)

CASES = [(n, seed) for n in (1, 2, 3, 5) for seed in range(3)]


def _torch_ref():
    return make_engine("torch")


STATEVECTOR_ENGINES = [e for e in ENGINES if e not in NO_STATEVECTOR]


@pytest.mark.parametrize("name", engine_params(STATEVECTOR_ENGINES))
@pytest.mark.parametrize("n,seed", CASES)
def test_statevector_matches_qiskit(name, n, seed):
    rng = np.random.default_rng(100 * n + seed)
    qc = random_circuit(n, 14, rng, max_gate_qubits=min(n, 3))
    values = values_for(qc.num_parameters, 3, rng)
    state = circuits.statevector(qc, values, engine=make_engine(name)).numpy()
    ref = np.stack([reference_state(qc, v) for v in values.numpy()])
    assert state.shape == ref.shape
    np.testing.assert_allclose(state, ref, atol=tolerance(name))


@pytest.mark.parametrize("precision", ["double", "single"])
@pytest.mark.parametrize("name", engine_params())
@pytest.mark.parametrize("n,seed", CASES)
def test_expval_matches_qiskit_and_torch(name, precision, n, seed):
    rng = np.random.default_rng(200 * n + seed)
    qc = random_circuit(n, 14, rng, max_gate_qubits=min(n, 3))
    obs = [random_pauli_sum(n, 4, rng), random_pauli_sum(n, 1, rng)]
    dtype = torch.float64 if precision == "double" else torch.float32
    values = values_for(qc.num_parameters, 3, rng, dtype)
    out = circuits.expval(qc, obs, values, engine=make_engine(name, precision))
    assert out.shape == (3, 2)
    ref = np.array(
        [[Statevector(bound(qc, v)).expectation_value(o).real for o in obs] for v in values.double().numpy()]
    )
    tol = tolerance(name, precision) * (1 + np.abs(obs[0].coeffs).sum())
    np.testing.assert_allclose(out.double().numpy(), ref, atol=tol)
    torch_out = circuits.expval(qc, obs, values.double(), engine=_torch_ref())
    np.testing.assert_allclose(out.double().numpy(), torch_out.numpy(), atol=tol)


def _gradient_cases():
    """Every engine on four sizes; a shot-based engine (ibm) on the small ones, the rest marked slow."""
    out = []
    for param in engine_params():
        for n, seed in [(1, 0), (2, 1), (3, 2), (4, 3)]:
            slow = param.values[0] in APPROXIMATE and n > 1
            marks = list(param.marks) + ([pytest.mark.slow] if slow else [])
            out.append(pytest.param(param.values[0], n, seed, marks=marks, id=f"{param.id}-{n}-{seed}"))
    return out


@pytest.mark.parametrize("name,n,seed", _gradient_cases())
def test_gradients_match_torch(name, n, seed):
    rng = np.random.default_rng(300 * n + seed)
    qc = random_circuit(n, 10, rng, n_params=4, max_gate_qubits=min(n, 3))
    obs = [random_pauli_sum(n, 3, rng), random_pauli_sum(n, 2, rng)]
    weights = torch.tensor(rng.normal(size=(2, 2)))
    grads = []
    for engine in (make_engine(name), _torch_ref()):
        values = values_for(qc.num_parameters, 2, np.random.default_rng(seed)).requires_grad_(True)
        (circuits.expval(qc, obs, values, engine=engine) * weights).sum().backward()
        grads.append(values.grad.numpy())
    assert np.abs(grads[1]).max() > 1e-3  # the check is not vacuous
    scale = np.abs(weights.numpy()).sum() * max(np.abs(o.coeffs).sum() for o in obs)
    tol = tolerance(name) * (1 if name not in APPROXIMATE else 2 * scale * qc.num_parameters)
    np.testing.assert_allclose(grads[0], grads[1], atol=tol)


def _probabilities(qc, values):
    return np.abs(reference_state(qc, values)) ** 2


@pytest.mark.parametrize("name", engine_params())
@pytest.mark.parametrize("n,seed", [(2, 0), (3, 1), (4, 2)])
def test_sampled_distribution_chi_square(name, n, seed):
    rng = np.random.default_rng(400 * n + seed)
    qc = random_circuit(n, 12, rng, max_gate_qubits=min(n, 3))
    v = rng.normal(size=qc.num_parameters)
    shots = 4000
    counts = circuits.sample(qc, torch.tensor(v), shots=shots, seed=7, engine=make_engine(name))[0]
    assert sum(counts.values()) == shots
    assert all(len(k) == n for k in counts)
    probs = _probabilities(qc, v)
    observed = np.array([counts.get(format(i, f"0{n}b"), 0) for i in range(2**n)], dtype=float)
    keep = probs * shots >= 5  # chi-square needs expected counts >= 5; pool the rest
    f_obs = np.append(observed[keep], observed[~keep].sum())
    f_exp = np.append(probs[keep], probs[~keep].sum()) * shots
    if f_exp[-1] < 5:
        f_obs, f_exp = f_obs[:-1], f_exp[:-1]
        f_exp *= f_obs.sum() / f_exp.sum()
    assert observed[~keep].sum() <= max(10, 0.01 * shots)
    assert chisquare(f_obs, f_exp).pvalue > 1e-3


@pytest.mark.parametrize("name", engine_params())
def test_sampling_is_seeded_and_in_qiskit_order(name):
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(3, 2)
    qc.x(0)
    qc.h(2)
    qc.measure(0, 1)  # qubit 0 -> clbit 1: keys read 'b1 b0' = '10'
    qc.measure(1, 0)
    eng = make_engine(name)
    a = circuits.sample(qc, shots=50, seed=3, engine=eng)[0]
    assert a == {"10": 50}
    bare = QuantumCircuit(3)
    bare.x(0)
    bare.h(2)
    b = circuits.sample(bare, shots=400, seed=5, engine=eng)[0]
    assert set(b) == {"001", "101"} and 120 < b["001"] < 280
    assert circuits.sample(bare, shots=400, seed=5, engine=eng) == [b]


@pytest.mark.parametrize("name", engine_params(DYNAMIC))
@pytest.mark.parametrize("n,seed", [(1, 0), (2, 1), (2, 2), (3, 3), (3, 4), (3, 5)])
def test_mid_circuit_measurement_and_reset(name, n, seed):
    rng = np.random.default_rng(500 * n + seed)
    qc = random_dynamic_circuit(n, 16, rng)
    obs = random_pauli_sum(n, 3, rng)
    values = values_for(qc.num_parameters, 2, rng)
    engine = make_engine(name) if name != "aer" else circuits.engines.get("aer", method="density_matrix")
    out = circuits.expval(qc, obs, values, engine=engine)
    ref = [branch_expval(bound(qc, v), obs) for v in values.numpy()]
    np.testing.assert_allclose(out.numpy()[:, 0], ref, atol=1e-6)
    if name == "torch":
        return
    # the joint distribution of all classical bits agrees with the torch engine's (two-sample chi-square)
    a = circuits.sample(qc, values[:1], shots=3000, seed=11, engine=engine)[0]
    b = circuits.sample(qc, values[:1], shots=3000, seed=12, engine=_torch_ref())[0]
    keys = sorted(set(a) | set(b))
    assert all(len(k) == n for k in keys)
    if len(keys) > 1:
        table = np.array([[a.get(k, 0) for k in keys], [b.get(k, 0) for k in keys]]) + 0.5
        assert chi2_contingency(table).pvalue > 1e-3


def _same_distribution(a: dict[str, int], b: dict[str, int], width: int) -> None:
    """Both count tables read ``width`` bits and pass a two-sample chi-square test."""
    keys = sorted(set(a) | set(b))
    assert all(len(k) == width for k in keys)
    if len(keys) > 1:
        table = np.array([[a.get(k, 0) for k in keys], [b.get(k, 0) for k in keys]]) + 0.5
        assert chi2_contingency(table).pvalue > 1e-3


SAMPLE_ONLY = [e for e in DYNAMIC_SAMPLE if e not in DYNAMIC]


@pytest.mark.parametrize("name", engine_params(SAMPLE_ONLY))
@pytest.mark.parametrize("n,seed", [(2, 1), (3, 4)])
def test_mid_circuit_sampling_on_sample_only_engines(name, n, seed):
    """Engines that sample dynamic circuits but cannot take their expectation values (ibm)."""
    rng = np.random.default_rng(500 * n + seed)
    qc = random_dynamic_circuit(n, 16, rng)
    values = values_for(qc.num_parameters, 1, rng)
    engine = make_engine(name)
    with pytest.raises(circuits.errors.UnsupportedOperationError, match="mid-circuit"):
        circuits.expval(qc, random_pauli_sum(n, 2, rng), values, engine=engine)
    a = circuits.sample(qc, values, shots=3000, seed=11, engine=engine)[0]
    b = circuits.sample(qc, values, shots=3000, seed=12, engine=_torch_ref())[0]
    _same_distribution(a, b, n)


def _two_step_reservoir_circuit():
    """3 qubits, 2 steps of encode + entangle + measure and reset two qubits, into two registers
    (bits of the later register printed left-most), then a final measurement of the third."""
    from qiskit import ClassicalRegister, QuantumCircuit
    from qiskit.circuit import ParameterVector

    x = ParameterVector("x", 2)
    steps = [ClassicalRegister(2, f"m{t}") for t in range(2)]
    final = ClassicalRegister(1, "f")
    qc = QuantumCircuit(3)
    for reg in [*steps, final]:
        qc.add_register(reg)
    for t, reg in enumerate(steps):
        qc.ry(x[t], 0)
        qc.cx(0, 1)
        qc.rx(0.7, 2)
        qc.cx(1, 2)
        qc.ry(0.4 + t, 1)
        qc.measure([0, 1], reg)
        qc.reset([0, 1])
    qc.measure(2, final[0])
    return qc


@pytest.mark.parametrize("name", engine_params([e for e in DYNAMIC_SAMPLE if e != "aer"]))
def test_two_step_measure_reset_counts_match_aer(name):
    """The same dynamic circuit sampled on each engine and on Aer: same key layout (5 classical
    bits over three registers, Qiskit order) and the same distribution."""
    qc = _two_step_reservoir_circuit()
    values = torch.tensor([[0.9, 2.1]], dtype=torch.float64)
    aer = circuits.engines.get("aer")
    a = circuits.sample(qc, values, shots=4000, seed=3, engine=make_engine(name))[0]
    b = circuits.sample(qc, values, shots=4000, seed=4, engine=aer)[0]
    _same_distribution(a, b, 5)
    assert len(set(a) & set(b)) >= 8  # many outcomes: the registers are not collapsed or reordered


@pytest.mark.parametrize("name", engine_params())
def test_parameter_free_circuit_and_batch_of_one(name):
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import QFTGate

    qc = QuantumCircuit(3)
    qc.h(0)
    qc.cx(0, 1)
    qc.append(QFTGate(3), range(3))
    eng = make_engine(name)
    out = circuits.expval(qc, ["ZZI", "XIX", "III"], engine=eng)
    ref = [
        Statevector(qc).expectation_value(circuits.observables.as_observables(o, 3)[0]).real
        for o in ["ZZI", "XIX", "III"]
    ]
    np.testing.assert_allclose(out.double().numpy()[0], ref, atol=tolerance(name))
    if name not in NO_STATEVECTOR:
        np.testing.assert_allclose(
            circuits.statevector(qc, engine=eng).numpy()[0], Statevector(qc).data, atol=1e-6
        )


@pytest.mark.parametrize("name", engine_params())
def test_empty_batch_gives_empty_results(name):
    """A batch of zero rows gives ``(0, n_obs)`` expectation values (that backpropagate), no
    counts and ``(0, 2**n)`` states on every engine; Aer once died of a segmentation fault here
    (tests/reliability/test_api.py runs that case in a subprocess)."""
    rng = np.random.default_rng(17)
    qc = random_circuit(3, 12, rng, max_gate_qubits=3)
    obs = [random_pauli_sum(3, 3, rng), random_pauli_sum(3, 1, rng)]
    eng = make_engine(name)
    values = torch.zeros(0, qc.num_parameters, dtype=torch.float64, requires_grad=True)
    out = circuits.expval(qc, obs, values, engine=eng)
    assert out.shape == (0, 2) and not out.is_complex()
    out.sum().backward()
    assert values.grad is not None and values.grad.shape == (0, qc.num_parameters)
    empty = values.detach()
    assert circuits.expval(qc, obs, empty, engine=eng, shots=100, seed=1).shape == (0, 2)
    assert circuits.sample(qc, empty, shots=10, seed=1, engine=eng) == []
    if name not in NO_STATEVECTOR:
        state = circuits.statevector(qc, empty, engine=eng)
        assert state.shape == (0, 8) and state.is_complex()
    layer = circuits.QuantumLayer(qc, obs, inputs="x", weights=None, engine=name, **ENGINES[name][0])
    assert layer(torch.zeros(0, layer.n_inputs)).shape == (0, 2)
    # the engine still checks the circuit it was given: a batch of one row after the empty one
    one = circuits.expval(qc, obs, torch.zeros(1, qc.num_parameters, dtype=torch.float64), engine=eng)
    assert one.shape == (1, 2)


@pytest.mark.parametrize("name", engine_params(DYNAMIC_SAMPLE))
def test_empty_batch_of_a_dynamic_circuit(name):
    qc = random_dynamic_circuit(2, 12, np.random.default_rng(3))
    assert circuits.sample(qc, torch.zeros(0, qc.num_parameters), shots=10, engine=make_engine(name)) == []


@pytest.mark.parametrize("name", engine_params())
def test_memory_guard_refuses_before_allocating(name):
    """Every engine checks what a run needs against ``max_memory`` (default: what is free) and
    refuses with the size it would need; a trillion shots are refused on every engine."""
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    with pytest.raises(MemoryLimitError, match=r"1,000,000,000,000 shots.*needs about .* GiB"):
        circuits.sample(qc, shots=10**12, engine=make_engine(name))
    if name == "ibm":  # hardware (or a fake backend's own Aer) holds the state, not this process
        return
    wide = QuantumCircuit(12)
    wide.h(range(12))
    eng = circuits.engines.get(name, **ENGINES[name][0], max_memory=2**12)
    with pytest.raises(MemoryLimitError, match=r"12 qubits.*needs about .* GiB but only .* is available"):
        circuits.expval(wide, "Z" * 12, engine=eng)
    with pytest.raises(MemoryLimitError, match="shots"):
        circuits.sample(qc, shots=10**6, engine=eng)
    roomy = circuits.engines.get(name, **ENGINES[name][0], max_memory=2**30)
    np.testing.assert_allclose(circuits.expval(wide, "Z" * 12, engine=roomy).numpy(), [[0.0]], atol=1e-6)
