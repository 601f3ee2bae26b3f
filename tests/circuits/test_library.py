"""circuits.library: PennyLane equivalence, state preparation, Sim et al. structure, errors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pennylane as pnl
import pytest
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector
from qiskit.quantum_info import Operator, Statevector

from circuits.library import (
    SIM_CIRCUIT_NUMBERS,
    amplitude_angles,
    amplitude_encoding,
    angle_encoding,
    basic_entangler_layers,
    hardware_efficient,
    iqp_encoding,
    sim_circuit,
    sim_num_parameters,
    sim_two_qubit_gates,
    strongly_entangling_layers,
)

RNG = np.random.default_rng(1234)


def qiskit_matrix(qc: QuantumCircuit, values) -> np.ndarray:
    return Operator(qc.assign_parameters(np.asarray(values, dtype=float).ravel())).data


def pennylane_matrix(op, n: int) -> np.ndarray:
    # Qiskit is little-endian: qubit n-1 is the most significant bit.
    return pnl.matrix(op, wire_order=list(range(n))[::-1])


def assert_equal_up_to_phase(u: np.ndarray, v: np.ndarray, atol: float = 1e-10) -> None:
    assert u.shape == v.shape
    k = np.unravel_index(np.argmax(np.abs(v)), v.shape)
    phase = u[k] / v[k]
    assert abs(abs(phase) - 1) < atol
    np.testing.assert_allclose(u, phase * v, atol=atol)


# ------------------------------------------------------------------ PennyLane templates


@pytest.mark.parametrize("n", [1, 2, 3, 4])
@pytest.mark.parametrize("layers", [1, 3])
def test_strongly_entangling_matches_pennylane(n, layers):
    qc = strongly_entangling_layers(n, layers)
    assert qc.num_parameters == 3 * n * layers
    w = RNG.uniform(-np.pi, np.pi, (layers, n, 3))
    expected = pennylane_matrix(pnl.StronglyEntanglingLayers(w, wires=range(n)), n)
    assert_equal_up_to_phase(qiskit_matrix(qc, w), expected)


@pytest.mark.parametrize(
    ("n", "ranges", "imprimitive", "pnl_gate"),
    [(4, (2, 3), "cz", pnl.CZ), (3, (2, 1), "cx", pnl.CNOT), (5, (4, 2), "cnot", pnl.CNOT)],
)
def test_strongly_entangling_ranges_and_imprimitive(n, ranges, imprimitive, pnl_gate):
    qc = strongly_entangling_layers(n, len(ranges), ranges=ranges, imprimitive=imprimitive)
    w = RNG.uniform(-np.pi, np.pi, (len(ranges), n, 3))
    op = pnl.StronglyEntanglingLayers(w, wires=range(n), ranges=ranges, imprimitive=pnl_gate)
    assert_equal_up_to_phase(qiskit_matrix(qc, w), pennylane_matrix(op, n))


def test_strongly_entangling_default_ranges_cycle():
    qc = strongly_entangling_layers(4, 4)
    two = [tuple(qc.find_bit(q).index for q in ins.qubits) for ins in qc.data if ins.name == "cx"]
    expected = [(i, (i + r) % 4) for r in (1, 2, 3, 1) for i in range(4)]
    assert two == expected


@pytest.mark.parametrize("n", [1, 2, 3, 4])
@pytest.mark.parametrize("rotation", ["X", "Y", "Z"])
def test_basic_entangler_matches_pennylane(n, rotation):
    layers = 2
    qc = basic_entangler_layers(n, layers, rotation=rotation)
    assert qc.num_parameters == n * layers
    w = RNG.uniform(-np.pi, np.pi, (layers, n))
    rot = {"X": pnl.RX, "Y": pnl.RY, "Z": pnl.RZ}[rotation]
    op = pnl.BasicEntanglerLayers(w, wires=range(n), rotation=rot)
    assert_equal_up_to_phase(qiskit_matrix(qc, w), pennylane_matrix(op, n))


@pytest.mark.parametrize("rotation", ["X", "Y", "Z"])
def test_angle_encoding_matches_pennylane(rotation):
    n = 3
    qc = angle_encoding(n, rotation)
    x = RNG.uniform(-2, 2, n)
    op = pnl.AngleEmbedding(x, wires=range(n), rotation=rotation)
    assert_equal_up_to_phase(qiskit_matrix(qc, x), pennylane_matrix(op, n))
    scaled = angle_encoding(n, rotation, scale=math.pi)
    op = pnl.AngleEmbedding(math.pi * x, wires=range(n), rotation=rotation)
    assert_equal_up_to_phase(qiskit_matrix(scaled, x), pennylane_matrix(op, n))


# ---------------------------------------------------------------------------- IQP encoding


@pytest.mark.parametrize("n", [1, 2, 3, 4])
@pytest.mark.parametrize("reps", [1, 2])
def test_iqp_matches_pennylane(n, reps):
    qc = iqp_encoding(n, reps=reps)
    x = RNG.uniform(-2, 2, n)
    op = pnl.IQPEmbedding(x, wires=range(n), n_repeats=reps)
    assert_equal_up_to_phase(qiskit_matrix(qc, x), pennylane_matrix(op, n))


@pytest.mark.parametrize(
    ("pairs", "pair_list"),
    [("linear", [(0, 1), (1, 2), (2, 3)]), ([(3, 0), (1, 2)], [(3, 0), (1, 2)])],
)
def test_iqp_matches_hand_written(pairs, pair_list):
    n, reps = 4, 2
    x = RNG.uniform(-2, 2, n)
    for pair_map, phi in [
        ("product", lambda a, b: a * b),
        ("pi_minus", lambda a, b: (math.pi - a) * (math.pi - b)),
    ]:
        ref = QuantumCircuit(n)
        for _ in range(reps):
            for q in range(n):
                ref.h(q)
                ref.rz(x[q], q)
            for a, b in pair_list:
                # RZZ(phi) = CX . RZ(phi) on b . CX
                ref.cx(a, b)
                ref.rz(phi(x[a], x[b]), b)
                ref.cx(a, b)
        qc = iqp_encoding(n, reps=reps, pairs=pairs, pair_map=pair_map)
        assert qc.num_parameters == n
        assert qc.count_ops()["rzz"] == reps * len(pair_list)
        assert_equal_up_to_phase(qiskit_matrix(qc, x), Operator(ref).data)


def test_iqp_ring_pairs():
    qc = iqp_encoding(4, reps=1, pairs="ring")
    pairs = [tuple(qc.find_bit(q).index for q in i.qubits) for i in qc.data if i.name == "rzz"]
    assert pairs == [(0, 1), (1, 2), (2, 3), (3, 0)]


# ---------------------------------------------------------------------- amplitude encoding


def _normalised(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_amplitude_encoding_prepares_nonnegative_vectors(n):
    qc = amplitude_encoding(n)
    assert qc.num_parameters == 2**n - 1
    assert set(qc.count_ops()) <= {"ry", "cx"}
    vectors = RNG.uniform(0, 1, (4, 2**n))
    vectors[0, RNG.integers(0, 2**n, size=max(1, 2**n // 2))] = 0.0  # sparse vector too
    angles = amplitude_angles(torch.as_tensor(vectors))
    assert angles.shape == (4, 2**n - 1)
    for v, a in zip(vectors, angles, strict=True):
        state = Statevector(qc.assign_parameters(a.numpy()))
        target = Statevector(_normalised(v))
        assert state.equiv(target)
        assert abs(state.inner(target)) ** 2 == pytest.approx(1.0, abs=1e-12)
        np.testing.assert_allclose(state.data, _normalised(v), atol=1e-12)  # no global phase


@pytest.mark.parametrize("n", [1, 3, 4])
def test_amplitude_encoding_bound_signed_vectors(n):
    v = RNG.normal(size=2**n)
    qc = amplitude_encoding(n, v)
    assert qc.num_parameters == 0
    np.testing.assert_allclose(Statevector(qc).data, _normalised(v), atol=1e-12)


def test_amplitude_encoding_basis_states():
    for k in range(8):
        v = np.zeros(8)
        v[k] = 1.0
        np.testing.assert_allclose(Statevector(amplitude_encoding(3, v)).data, v, atol=1e-12)


def _torch_ry_cx_state(qc: QuantumCircuit, angles: torch.Tensor) -> torch.Tensor:
    """Tiny differentiable simulator for the RY/CX circuits of amplitude_encoding."""
    n = qc.num_qubits
    index = {p: i for i, p in enumerate(qc.parameters)}
    state = torch.zeros((2,) * n, dtype=angles.dtype)
    state[(0,) * n] = 1.0  # axis j <-> qubit n-1-j (little-endian reshape)
    for ins in qc.data:
        qs = [qc.find_bit(q).index for q in ins.qubits]
        if ins.name == "ry":
            t = angles[index[ins.operation.params[0]]] / 2
            c, s = torch.cos(t), torch.sin(t)
            m = torch.stack([torch.stack([c, -s]), torch.stack([s, c])])
            ax = n - 1 - qs[0]
            state = torch.movedim(torch.tensordot(m, state, dims=([1], [ax])), 0, ax)
        else:
            ctl, tgt = n - 1 - qs[0], n - 1 - qs[1]
            idx = [slice(None)] * n
            idx[ctl] = 1
            sub = state[tuple(idx)]
            flipped = sub.flip(tgt - (1 if tgt > ctl else 0))
            state = state.clone()
            state[tuple(idx)] = flipped
    return state.reshape(-1)


def test_amplitude_angles_softmax_batch_is_differentiable():
    n = 4
    qc = amplitude_encoding(n)
    logits = torch.randn(3, 16, dtype=torch.float64, requires_grad=True)
    probs = torch.softmax(logits, dim=1)
    angles = amplitude_angles(probs)
    assert angles.shape == (3, 15) and angles.dtype == torch.float64
    for b in range(3):
        np.testing.assert_allclose(
            Statevector(qc.assign_parameters(angles[b].detach().numpy())).data,
            _normalised(probs[b].detach().numpy()),
            atol=1e-12,
        )

    # d(state)/d(logits) through the angles equals d(probs/||probs||)/d(logits)
    def through_circuit(z):
        return _torch_ry_cx_state(qc, amplitude_angles(torch.softmax(z, dim=0)))

    def direct(z):
        p = torch.softmax(z, dim=0)
        return p / p.norm()

    z = logits[0].detach()
    torch.testing.assert_close(through_circuit(z), direct(z), atol=1e-12, rtol=0)
    j1 = torch.autograd.functional.jacobian(through_circuit, z)
    j2 = torch.autograd.functional.jacobian(direct, z)
    torch.testing.assert_close(j1, j2, atol=1e-10, rtol=1e-8)


def test_amplitude_angles_gradcheck_and_finite_gradients_at_zeros():
    v = torch.rand(2, 8, dtype=torch.float64) + 0.1
    assert torch.autograd.gradcheck(amplitude_angles, (v.requires_grad_(),))
    sparse = torch.tensor([0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.3, 0.0], requires_grad=True)
    amplitude_angles(sparse).sum().backward()
    assert torch.isfinite(sparse.grad).all()


def test_amplitude_angles_shapes_padding_and_float32():
    a = amplitude_angles(np.ones(4))
    assert a.shape == (3,)
    padded = amplitude_angles(torch.ones(2, 5, dtype=torch.float32), pad_with=0.0)
    assert padded.shape == (2, 7) and padded.dtype == torch.float32
    state = Statevector(amplitude_encoding(3).assign_parameters(padded[0].double().numpy()))
    np.testing.assert_allclose(state.data, _normalised(np.r_[np.ones(5), np.zeros(3)]), atol=1e-6)


def test_amplitude_errors():
    with pytest.raises(ValueError, match="complex"):
        amplitude_encoding(1, [1.0, 1j])
    with pytest.raises(ValueError, match="all zero"):
        amplitude_angles(torch.zeros(2, 4))
    with pytest.raises(ValueError, match="pad_with"):
        amplitude_angles(torch.ones(5))
    with pytest.raises(ValueError, match="need 8 amplitudes"):
        amplitude_encoding(3, np.ones(4))
    with pytest.raises(ValueError, match="NaN"):
        amplitude_angles(torch.tensor([1.0, float("nan")]))


# ------------------------------------------------------------------------ hardware efficient


def test_hardware_efficient_structure():
    qc = hardware_efficient(4, 2, rotations=("Y", "Z"), entangler="cz", topology="ring")
    assert qc.num_parameters == (2 + 1) * 2 * 4
    assert qc.count_ops() == {"ry": 12, "rz": 12, "cz": 8}
    qc = hardware_efficient(5, 3, rotations="X", topology="full", final_rotations=False)
    assert qc.num_parameters == 15
    assert qc.count_ops() == {"rx": 15, "cx": 3 * 10}
    qc = hardware_efficient(3, 1)
    pairs = [tuple(qc.find_bit(q).index for q in i.qubits) for i in qc.data if i.name == "cx"]
    assert pairs == [(0, 1), (1, 2)]


def test_hardware_efficient_matches_hand_written():
    w = RNG.uniform(-np.pi, np.pi, 12)
    ref = QuantumCircuit(3)
    k = iter(w)
    for layer in range(2):
        for q in range(3):
            ref.ry(next(k), q)
        for q in range(3):
            ref.rz(next(k), q)
        if layer == 0:
            ref.cx(0, 1)
            ref.cx(1, 2)
    assert_equal_up_to_phase(qiskit_matrix(hardware_efficient(3, 1), w), Operator(ref).data)


# ---------------------------------------------------------------------- parameter plumbing


def test_vector_names_and_existing_vectors():
    qc = angle_encoding(3, inputs="feat").compose(strongly_entangling_layers(3, 1, weights="w"))
    assert {p.vector.name for p in qc.parameters} == {"feat", "w"}
    theta = ParameterVector("theta", 20)
    a = basic_entangler_layers(3, 2, weights=theta[:6])
    b = sim_circuit(2, 3, weights=theta[6:12])
    both = a.compose(b)
    assert list(both.parameters) == list(theta[:12])
    x = ParameterVector("x", 3)
    assert list(iqp_encoding(3, inputs=x).parameters) == list(x)
    with pytest.raises(ValueError, match="needs 6 parameter"):
        basic_entangler_layers(3, 2, weights=ParameterVector("t", 5))
    with pytest.raises(ValueError, match="weights must be"):
        basic_entangler_layers(3, 2, weights=[1.0, 2.0])


# ---------------------------------------------------------------------- Sim et al. circuits

PAPER_COUNTS_N4 = [8, 8, 11, 11, 28, 28, 19, 19, 4, 8, 12, 12, 16, 16, 8, 11, 11, 12, 12]


def _rot(g, qubits=range(4)):
    return [(g, (q,)) for q in qubits]


def _two(g, pairs):
    return [(g, p) for p in pairs]


_LADDER = [(3, 2), (2, 1), (1, 0)]
_RING = [(3, 0), (2, 3), (1, 2), (0, 1)]
_RING_BACK = [(3, 2), (0, 3), (1, 0), (2, 1)]
_ALL = [(c, t) for c in (3, 2, 1, 0) for t in (3, 2, 1, 0) if c != t]
_XZ = _rot("rx") + _rot("rz")

# Fig. 2 of Sim, Johnson & Aspuru-Guzik (2019), 4 qubits, qubit 0 = top wire, one layer.
FIGURE_2 = {
    1: _XZ,
    2: _XZ + _two("cx", _LADDER),
    3: _XZ + _two("crz", _LADDER),
    4: _XZ + _two("crx", _LADDER),
    5: _XZ + _two("crz", _ALL) + _XZ,
    6: _XZ + _two("crx", _ALL) + _XZ,
    7: _XZ + _two("crz", [(1, 0), (3, 2)]) + _XZ + _two("crz", [(2, 1)]),
    8: _XZ + _two("crx", [(1, 0), (3, 2)]) + _XZ + _two("crx", [(2, 1)]),
    9: _rot("h") + _two("cz", _LADDER) + _rot("rx"),
    10: _rot("ry") + _two("cz", [*_LADDER, (3, 0)]) + _rot("ry"),
    11: _rot("ry")
    + _rot("rz")
    + _two("cx", [(1, 0), (3, 2)])
    + _rot("ry", (1, 2))
    + _rot("rz", (1, 2))
    + _two("cx", [(2, 1)]),
    12: _rot("ry")
    + _rot("rz")
    + _two("cz", [(1, 0), (3, 2)])
    + _rot("ry", (1, 2))
    + _rot("rz", (1, 2))
    + _two("cz", [(2, 1)]),
    13: _rot("ry") + _two("crz", _RING) + _rot("ry") + _two("crz", _RING_BACK),
    14: _rot("ry") + _two("crx", _RING) + _rot("ry") + _two("crx", _RING_BACK),
    15: _rot("ry") + _two("cx", _RING) + _rot("ry") + _two("cx", _RING_BACK),
    16: _XZ + _two("crz", [(1, 0), (3, 2), (2, 1)]),
    17: _XZ + _two("crx", [(1, 0), (3, 2), (2, 1)]),
    18: _XZ + _two("crz", _RING),
    19: _XZ + _two("crx", _RING),
}


def _gates(qc: QuantumCircuit) -> list[tuple[str, tuple[int, ...]]]:
    return [(i.name, tuple(qc.find_bit(q).index for q in i.qubits)) for i in qc.data]


@pytest.mark.parametrize("number", SIM_CIRCUIT_NUMBERS)
def test_sim_circuits_reproduce_figure_2(number):
    qc = sim_circuit(number, 4)
    assert qc.num_parameters == PAPER_COUNTS_N4[number - 1] == sim_num_parameters(number, 4)
    assert _gates(qc) == FIGURE_2[number]
    # parameters are used once each, in gate order
    used = [p for i in qc.data for p in i.operation.params]
    assert [p.name for p in used] == [f"theta[{k}]" for k in range(qc.num_parameters)]
    # two layers repeat the block (circuit 10: its first RY column is not repeated)
    two = _gates(sim_circuit(number, 4, layers=2))
    block = FIGURE_2[number][4:] if number == 10 else FIGURE_2[number]
    assert two == FIGURE_2[number] + block


@pytest.mark.parametrize("number", SIM_CIRCUIT_NUMBERS)
@pytest.mark.parametrize("n", [2, 3, 5, 6])
def test_sim_circuit_counts_match_table(number, n):
    for layers in (1, 2):
        qc = sim_circuit(number, n, layers)
        assert qc.num_parameters == sim_num_parameters(number, n, layers)
        ops = dict(qc.count_ops())
        two = {k: v for k, v in ops.items() if k in {"cx", "cz", "crx", "crz"}}
        assert two == sim_two_qubit_gates(number, n, layers)
        assert all(len(i.qubits) <= 2 for i in qc.data)


def test_sim_counts_general_n():
    n = 6
    expected = {
        1: 12, 2: 12, 3: 17, 4: 17, 5: 54, 6: 54, 7: 29, 8: 29, 9: 6, 10: 12,
        11: 12 + 8, 12: 20, 13: 24, 14: 24, 15: 12, 16: 17, 17: 17, 18: 18, 19: 18,
    }  # fmt: skip
    assert {k: sim_num_parameters(k, n) for k in SIM_CIRCUIT_NUMBERS} == expected
    assert sim_num_parameters(10, 6, layers=3) == 6 * 4
    assert sim_two_qubit_gates(5, 5) == {"crz": 20}
    assert sim_two_qubit_gates(13, 5, layers=2) == {"crz": 20}
    assert sim_num_parameters(1, 1) == 2
    # checkerboard on odd n: second sublayer rotations act on qubits 1..n-1
    qc = sim_circuit(11, 5)
    inner = [q for name, (q, *_) in _gates(qc)[10:] if name in {"ry", "rz"}]
    assert inner == [1, 2, 3, 4, 1, 2, 3, 4]


# ------------------------------------------------------------------------------ bad input

BUILDERS = [
    lambda n: angle_encoding(n),
    lambda n: amplitude_encoding(n),
    lambda n: iqp_encoding(n),
    lambda n: strongly_entangling_layers(n, 1),
    lambda n: basic_entangler_layers(n, 1),
    lambda n: hardware_efficient(n, 1),
    lambda n: sim_circuit(2, n),
]


@pytest.mark.parametrize("build", BUILDERS)
@pytest.mark.parametrize("n", [0, -1, 2.5, True, "3", None])
def test_bad_qubit_counts(build, n):
    with pytest.raises(ValueError, match="n_qubits"):
        build(n)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: angle_encoding(2, "W"), "unknown rotation"),
        (lambda: angle_encoding(2, scale=float("inf")), "scale"),
        (lambda: basic_entangler_layers(2, 1, rotation="Q"), "unknown rotation"),
        (lambda: hardware_efficient(2, 1, rotations=("Y", "T")), "unknown rotation"),
        (lambda: hardware_efficient(2, 1, rotations=()), "at least one"),
        (lambda: hardware_efficient(2, 1, entangler="swap"), "unknown entangler"),
        (lambda: hardware_efficient(2, 1, topology="star"), "unknown topology"),
        (lambda: strongly_entangling_layers(3, 0), "n_layers"),
        (lambda: strongly_entangling_layers(3, 2, imprimitive="iswap"), "unknown imprimitive"),
        (lambda: strongly_entangling_layers(3, 2, ranges=(1,)), "one entry per layer"),
        (lambda: strongly_entangling_layers(3, 2, ranges=(1, 3)), "divisible"),
        (lambda: strongly_entangling_layers(3, 1, ranges=5), "ranges"),
        (lambda: iqp_encoding(3, reps=0), "reps"),
        (lambda: iqp_encoding(3, pairs="star"), "unknown pairs"),
        (lambda: iqp_encoding(3, pairs=[(0, 0)]), "distinct"),
        (lambda: iqp_encoding(3, pairs=[(0, 3)]), "distinct"),
        (lambda: iqp_encoding(3, pair_map="cosine"), "unknown pair_map"),
        (lambda: sim_circuit(0, 4), "1 to 19"),
        (lambda: sim_circuit(20, 4), "1 to 19"),
        (lambda: sim_circuit(2, 1), "n_qubits must be an integer >= 2"),
        (lambda: sim_circuit(2, 4, layers=0), "layers"),
        (lambda: angle_encoding(2, inputs=""), "non-empty"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_all_circuits_are_unitary_for_small_n():
    for number, n in itertools.product(SIM_CIRCUIT_NUMBERS, (2, 3)):
        qc = sim_circuit(number, n, layers=2)
        u = qiskit_matrix(qc, RNG.uniform(-np.pi, np.pi, qc.num_parameters))
        np.testing.assert_allclose(u @ u.conj().T, np.eye(2**n), atol=1e-10)
