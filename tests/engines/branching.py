"""An independent reference for dynamic circuits: enumerate every measurement branch with
``qiskit.quantum_info.Statevector`` and weight branches by their probabilities."""

from __future__ import annotations

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Clbit, IfElseOp
from qiskit.quantum_info import SparsePauliOp, Statevector


def _branches(circuit: QuantumCircuit, instructions, branches):
    for inst in instructions:
        op = inst.operation
        qs = [circuit.find_bit(q).index for q in inst.qubits]
        new = []
        for weight, state, bits in branches:
            if op.name == "barrier":
                new.append((weight, state, bits))
            elif op.name in ("measure", "reset"):
                probs = state.probabilities([qs[0]])
                for outcome in (0, 1):
                    if probs[outcome] < 1e-14:
                        continue
                    proj = np.zeros((2, 2))
                    proj[outcome, outcome] = 1
                    s = state.evolve(proj, [qs[0]]) / np.sqrt(probs[outcome])
                    b = dict(bits)
                    if op.name == "measure":
                        b[circuit.find_bit(inst.clbits[0]).index] = outcome
                    elif outcome == 1:
                        s = s.evolve(np.array([[0, 1], [1, 0]]), [qs[0]])
                    new.append((weight * probs[outcome], s, b))
            elif isinstance(op, IfElseOp):
                target, value = op.condition
                if isinstance(target, Clbit):
                    taken = bits.get(circuit.find_bit(target).index, 0) == int(value)
                else:
                    reg = sum(bits.get(circuit.find_bit(b).index, 0) << i for i, b in enumerate(target))
                    taken = reg == int(value)
                body = op.blocks[0] if taken else (op.blocks[1] if len(op.blocks) > 1 else None)
                if body is None:
                    new.append((weight, state, bits))
                    continue
                sub = QuantumCircuit(circuit.num_qubits)
                for i in body.data:
                    sub.append(i.operation, [qs[body.find_bit(q).index] for q in i.qubits])
                new.append((weight, state.evolve(sub), bits))
            else:
                new.append((weight, state.evolve(op, qs), bits))
        branches = new
    return branches


def branch_expval(circuit: QuantumCircuit, observable: SparsePauliOp) -> float:
    """Exact expectation value of a bound dynamic circuit, averaged over measurement outcomes
    (final measurements are ignored, as ``circuits.expval`` does)."""
    circuit = circuit.remove_final_measurements(inplace=False)
    start = Statevector.from_label("0" * circuit.num_qubits)
    branches = _branches(circuit, circuit.data, [(1.0, start, {})])
    return float(sum(w * s.expectation_value(observable).real for w, s, _ in branches))
