"""The torch engine on real OpenQASM programs (the QASMBench corpus in shared/data):
final states against qiskit.quantum_info, and mid-circuit programs against Aer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from qiskit.quantum_info import Pauli, Statevector

import circuits
from circuits.errors import MemoryLimitError, QasmError, UnsupportedOperationError

from .helpers import qasmbench_root


def _files(max_qubits: int) -> list[Path]:
    root = qasmbench_root()
    if root is None:
        return []
    out = []
    for line in (root / "MANIFEST.tsv").read_text().splitlines()[1:]:
        cols = line.split("\t")
        if cols[3] == "ok" and int(cols[4]) <= max_qubits:
            out.append(root / cols[0])
    return out


FILES = _files(max_qubits=14)


@pytest.mark.skipif(not FILES, reason="QASMBench corpus not found (set KETML_DATA)")
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_corpus_program_matches_reference(path):
    try:
        qc = circuits.qasm.load(path)
    except QasmError:  # a few corpus files are malformed upstream (see test_qasm.py)
        pytest.skip("file does not parse")
    body = qc.remove_final_measurements(inplace=False)
    if any(i.operation.name == "if_else" for i in qc.data):
        if qc.num_qubits + qc.num_clbits > 13:
            with pytest.raises((UnsupportedOperationError, MemoryLimitError), match="aer|GiB"):
                circuits.sample(qc, shots=10)
            return
        _compare_samples_with_aer(qc)
        return
    if any(i.operation.name in ("measure", "reset") for i in body.data):
        # mid-circuit measurement / reset: compare single-qubit <Z> with Aer's density matrix
        from qiskit import transpile
        from qiskit.quantum_info import DensityMatrix, Kraus
        from qiskit_aer import AerSimulator

        if body.num_qubits > 10:
            pytest.skip("density-matrix reference too large")
        channel = Kraus([np.diag([1.0, 0.0]), np.diag([0.0, 1.0])]).to_instruction()
        ref = body.copy_empty_like()
        for inst in body.data:
            if inst.operation.name == "measure":
                ref.append(channel, inst.qubits)
            else:
                ref.append(inst)
        ref.save_density_matrix()
        sim = AerSimulator(method="density_matrix")
        rho = DensityMatrix(sim.run(transpile(ref, sim)).result().data()["density_matrix"])
        n = body.num_qubits
        labels = [f"{'I' * (n - 1 - q)}Z{'I' * q}" for q in range(n)]
        got = circuits.expval(qc, labels, dtype="complex128")[0].numpy()
        np.testing.assert_allclose(got, [rho.expectation_value(Pauli(lb)).real for lb in labels], atol=1e-8)
        return
    got = circuits.statevector(qc, dtype="complex128")[0].numpy()
    want = Statevector(body).data
    np.testing.assert_allclose(got, want, atol=1e-8)


def _compare_samples_with_aer(qc):
    """Classical feed-forward: joint clbit distributions agree with Aer's (chi-square)."""
    from qiskit import transpile
    from qiskit_aer import AerSimulator
    from scipy.stats import chi2_contingency

    shots = 8000
    ours = circuits.sample(qc, shots=shots, seed=1)[0]
    sim = AerSimulator(seed_simulator=2)
    theirs = {
        k.replace(" ", ""): v
        for k, v in sim.run(transpile(qc, sim), shots=shots).result().get_counts().items()
    }
    keys = sorted(set(ours) | set(theirs))
    if len(keys) == 1:
        assert ours == theirs
        return
    table = np.array([[ours.get(k, 0) for k in keys], [theirs.get(k, 0) for k in keys]])
    assert chi2_contingency(table).pvalue > 1e-4
