"""Our functor against lambeq: the circuit on the torch engine gives lambeq's own
``Diagram.eval`` (postselected, normalised) to 1e-6, batched by circuit shape."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from circuits import statevector
from qml.qnlp.ansatz import FunctorSettings
from qml.qnlp.functor import convert, to_qiskit
from qml.qnlp.model import output_marginal


def _lambeq_probabilities(circuit, values: dict[str, float]) -> np.ndarray:
    """lambeq's tensor-network value of the diagram, |amplitude|^2 normalised (output wires in
    order, first wire most significant)."""
    symbols = sorted(circuit.free_symbols, key=lambda x: x.name)
    amp = np.asarray(circuit.lambdify(*symbols)(*[values[x.name] for x in symbols]).eval())
    p = np.abs(amp.reshape(-1)) ** 2
    return p / p.sum()


def _ours(shape, rows: list[list[float]]) -> np.ndarray:
    """All output-wire probabilities of a batch of one shape, in lambeq's order."""
    state = statevector(shape.template, {"w": torch.tensor(rows, dtype=torch.float64)}, dtype="complex128")
    n = shape.n_qubits
    probs = (state.abs() ** 2).reshape((-1,) + (2,) * n)
    axes = [n - q for q in shape.outputs]  # dim of each output qubit, in output-wire order
    others = [d for d in range(1, n + 1) if d not in axes]
    probs = probs.sum(dim=others) if others else probs
    kept = sorted(axes)
    probs = probs.permute([0] + [1 + kept.index(a) for a in axes])
    return probs.reshape(len(rows), -1).numpy()


def _check(settings: FunctorSettings, texts: list[str], seed: int = 0) -> int:
    rng = np.random.default_rng(seed)
    groups: dict = {}
    for text in texts:
        circuit = settings.quantum(text)
        converted = convert(circuit)
        values = {
            x.name: float(v)
            for x, v in zip(circuit.free_symbols, rng.uniform(0, 1, len(circuit.free_symbols)), strict=True)
        }
        groups.setdefault(converted.shape, []).append((circuit, converted, values))
    for shape, items in groups.items():
        ours = _ours(shape, [[vals[name] for name in conv.symbols] for _, conv, vals in items])
        for row, (circuit, _, vals) in zip(ours, items, strict=True):
            np.testing.assert_allclose(row, _lambeq_probabilities(circuit, vals), atol=1e-6)
    return len(groups)


def _corpus(sentence_sets, name):
    splits = ("train", "dev", "test") if name == "lambeq-mc" else ("train", "test")
    return [text for split in splits for _, text in sentence_sets(name, split)]


def test_every_mc_and_rp_diagram_matches_lambeq_eval(sentence_sets):
    """IQP, cups kept (the full DisCoCat diagram, the most postselections), every diagram."""
    for name, target in (("lambeq-mc", "s"), ("lambeq-rp", "n")):
        texts = _corpus(sentence_sets, name)
        shapes = _check(FunctorSettings(ansatz="iqp", layers=1, rewriters=(), target=target), texts)
        assert 1 < shapes < len(texts)  # batched: several sentences share each shape


@pytest.mark.parametrize("ansatz", ["sim14", "sim15", "sel"])
def test_other_ansaetze_on_a_subset_match_lambeq_eval(sentence_sets, ansatz):
    texts = _corpus(sentence_sets, "lambeq-mc")[::10] + _corpus(sentence_sets, "lambeq-rp")[::10]
    for text in texts:
        target = "n" if "that" in text.split() else "s"
        _check(FunctorSettings(ansatz=ansatz, layers=2, rewriters=("remove-cups",), target=target), [text])


@pytest.mark.slow
@pytest.mark.parametrize("ansatz", ["iqp", "sim14", "sim15", "sel"])
@pytest.mark.parametrize("rewriters", [(), ("remove-cups",), ("subject_rel_pronoun", "object_rel_pronoun")])
def test_all_ansaetze_and_rewriters_on_every_diagram(sentence_sets, ansatz, rewriters):
    for name, target in (("lambeq-mc", "s"), ("lambeq-rp", "n")):
        settings = FunctorSettings(ansatz=ansatz, layers=2, rewriters=rewriters, target=target)
        _check(settings, _corpus(sentence_sets, name), seed=1)


def test_the_qiskit_circuit_names_parameters_by_lambeq_symbol_and_postselects():
    settings = FunctorSettings(ansatz="iqp", rewriters=())
    circuit = to_qiskit(settings.quantum("man prepares meal ."))
    names = {p.name for p in circuit.parameters}
    assert {"man__n_0", "meal__n_2", "prepares__n.r@s@n.l_0"} <= names
    ops = circuit.count_ops()
    assert ops["postselect"] == 4 and circuit.num_qubits == 5  # two cups: four qubits postselected


def test_output_marginal_uses_qiskit_bit_order():
    state = torch.zeros(1, 8, dtype=torch.complex128)
    state[0, 0b010] = 1.0  # qubit 1 is |1>
    assert output_marginal(state, 3, 1).tolist() == [[0.0, 1.0]]
    assert output_marginal(state, 3, 0).tolist() == [[1.0, 0.0]]


@pytest.mark.parametrize("reader", ["cups", "stairs", "spiders", "bag-of-words"])
def test_syntax_free_readers_convert_exactly_too(reader):
    settings = FunctorSettings(reader=reader, ansatz="sim15", layers=1, rewriters=())
    _check(settings, ["woman cooks tasty meal .", "man prepares meal .", "device that astronomer use ."])
