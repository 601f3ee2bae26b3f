"""Deferred measurement: a circuit with mid-circuit measurements and feed-forward rewritten as a
unitary-plus-reset circuit on extra *record* qubits, whose expectation values (records traced out)
equal the average over all measurement outcomes. Density-matrix simulators then give them exactly.

``measure q -> c`` becomes ``reset r_c; cx q, r_c`` (one record qubit per classical bit, reused
when the bit is overwritten); ``if_test`` on a bit or a register becomes the body controlled on
the record qubits.
"""

from __future__ import annotations

from qiskit import QuantumCircuit, QuantumRegister
from qiskit.circuit import ClassicalRegister, Clbit, IfElseOp

from ..errors import UnsupportedOperationError


def defer_measurements(circuit: QuantumCircuit) -> QuantumCircuit:
    """Return ``circuit`` on ``n + n_clbits`` qubits (records after the system qubits), no clbits."""
    n = circuit.num_qubits
    records = QuantumRegister(circuit.num_clbits, "record")
    out = QuantumCircuit(circuit.qubits, records)
    out.global_phase = circuit.global_phase
    record_of = {bit: records[i] for i, bit in enumerate(circuit.clbits)}
    for inst in circuit.data:
        op = inst.operation
        if op.name == "measure":
            r = record_of[inst.clbits[0]]
            out.reset(r)
            out.cx(inst.qubits[0], r)
        elif op.name == "barrier":
            continue
        elif isinstance(op, IfElseOp):
            target, value = op.condition
            if isinstance(target, Clbit):
                controls, state = [record_of[target]], int(bool(value))
            elif isinstance(target, ClassicalRegister):
                controls, state = [record_of[b] for b in target], int(value)
            else:
                raise UnsupportedOperationError(
                    "only conditions on one classical bit or a register can be deferred"
                )
            true_body, false_body = op.blocks[0], op.blocks[1] if len(op.blocks) > 1 else None
            if false_body is not None and len(controls) > 1:
                raise UnsupportedOperationError("an else branch on a register condition cannot be deferred")
            _controlled(out, true_body, inst.qubits, controls, state)
            if false_body is not None:
                _controlled(out, false_body, inst.qubits, controls, 1 - state)
        elif op.name in ("reset",) or op.num_clbits == 0:
            out.append(op, inst.qubits)
        else:
            raise UnsupportedOperationError(f"cannot defer the operation {op.name!r}")
    assert out.num_qubits == n + circuit.num_clbits
    return out


def _controlled(out: QuantumCircuit, body: QuantumCircuit, qubits, controls, state: int) -> None:
    if (
        body.num_clbits
        and any(i.operation.name in ("measure",) for i in body.data)
        or any(i.operation.name == "reset" or isinstance(i.operation, IfElseOp) for i in body.data)
    ):
        raise UnsupportedOperationError(
            "a conditional block that measures, resets or branches again cannot be deferred"
        )
    bare = QuantumCircuit(body.num_qubits, global_phase=body.global_phase)
    for i in body.data:
        if i.operation.name != "barrier":
            bare.append(i.operation, [body.find_bit(q).index for q in i.qubits])
    gate = bare.to_gate(label="if").control(len(controls), ctrl_state=state, annotated=False)
    out.append(gate, list(controls) + list(qubits))
