"""Our functor: a lambeq quantum diagram -> a ``qiskit.QuantumCircuit`` with postselection.

lambeq's own ``to_circuital`` and ``readoff_circuital`` put the diagram in circuit form (all
kets first, postselections last) and read off its gates; each gate becomes its Qiskit gate, each
``Bra`` a :class:`circuits.Postselect`. lambeq angles are in turns, so ``Rx(t)`` is Qiskit's
``rx(2*pi*t)`` . Scalars
(the ``sqrt 2`` of each cup) are dropped: the probabilities are normalised after postselection.

A :class:`CircuitShape` is the circuit with its parameters replaced by slots; sentences with the
same shape share one compiled template and are evaluated as one batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

from lambeq.backend.quantum import Diagram as QuantumDiagram
from lambeq.backend.quantum import Discard, readoff_circuital, to_circuital
from lambeq.backend.symbol import Symbol
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter, ParameterVector
from qiskit.circuit.library import (
    HGate,
    RXGate,
    RYGate,
    RZGate,
    SGate,
    SwapGate,
    TGate,
    XGate,
    YGate,
    ZGate,
)

from circuits.errors import UnsupportedOperationError
from circuits.ops import Postselect

__all__ = ["CircuitShape", "Converted", "convert", "to_qiskit"]

_FIXED = {"H": HGate, "X": XGate, "Y": YGate, "Z": ZGate, "S": SGate, "T": TGate, "SWAP": SwapGate}
_CONTROLLED = {"CX": XGate, "CY": YGate, "CZ": ZGate, "CCX": XGate, "CCZ": ZGate}
_ROTATIONS = {"Rx": (RXGate, 2 * math.pi), "Ry": (RYGate, 2 * math.pi), "Rz": (RZGate, 2 * math.pi)}

#: one gate of a shape: (name, qubits, angle) where angle is None, a float, or (slot, factor)
Op = tuple[str, tuple[int, ...], object]


@dataclass(frozen=True)
class CircuitShape:
    """A circuit up to its word parameters: gates with slot-numbered angles, qubit count,
    postselected qubits (qubit -> value) and the output qubits (the diagram's open wires, left
    to right), ``n_slots`` angle slots."""

    n_qubits: int
    ops: tuple[Op, ...]
    postselect: tuple[tuple[int, int], ...]
    outputs: tuple[int, ...]
    n_slots: int

    def circuit(self, parameters, *, measured: bool = False) -> QuantumCircuit:
        """The circuit with slot ``k`` bound to ``parameters[k]`` (Parameters or floats).

        ``measured``: for shot-based engines, measure instead of postselecting: clbit ``i`` holds
        the ``i``-th postselected qubit and the last clbit the first output qubit; the caller
        keeps the shots whose postselected bits match (see :mod:`.shots`)."""
        qc = QuantumCircuit(self.n_qubits, len(self.postselect) + 1 if measured else 0)
        for name, qubits, angle in self.ops:
            if isinstance(angle, tuple):
                slot, factor = angle
                angle = factor * parameters[slot]
            if name in _FIXED:
                gate = _FIXED[name]()
            elif name in _CONTROLLED:
                gate = _CONTROLLED[name]().control(len(qubits) - 1)
            elif name.endswith("dg"):
                gate = _FIXED[name[:-2]]().inverse()
            elif name in _ROTATIONS:
                gate = _ROTATIONS[name][0](angle)
            elif name[1:] in _ROTATIONS and name[0] == "C":
                gate = _ROTATIONS[name[1:]][0](angle).control(1)
            else:  # pragma: no cover - refused in convert()
                raise UnsupportedOperationError(f"no Qiskit gate for lambeq's {name}")
            qc.append(gate, list(qubits))
        if measured:
            for clbit, (qubit, _) in enumerate(self.postselect):
                qc.measure(qubit, clbit)
            qc.measure(self.outputs[0], len(self.postselect))
            return qc
        for qubit, value in self.postselect:
            qc.append(Postselect(value), [qubit])
        return qc

    @cached_property
    def template(self) -> QuantumCircuit:
        """The circuit with the slots as one ``ParameterVector`` ``w`` (what the engines compile)."""
        return self.circuit(ParameterVector("w", self.n_slots))


@dataclass(frozen=True)
class Converted:
    """A diagram converted: its shape and the lambeq symbol name in each slot."""

    shape: CircuitShape
    symbols: tuple[str, ...]

    def circuit(self) -> QuantumCircuit:
        """The circuit with one Qiskit ``Parameter`` per lambeq symbol, named as the symbol."""
        params = {name: Parameter(name) for name in dict.fromkeys(self.symbols)}
        return self.shape.circuit([params[name] for name in self.symbols])


def _angle(phase, factor: float, slots: dict[str, int]):
    if isinstance(phase, Symbol):
        slot = slots.setdefault(phase.name, len(slots))
        return (slot, factor * float(phase.scale))
    return factor * float(phase)


def convert(diagram: QuantumDiagram) -> Converted:
    """The circuit shape of a lambeq quantum diagram and the symbol in each of its slots.

    Slots are numbered by first appearance, so two sentences with the same grammar and ansatz
    have equal shapes whatever their words."""
    if any(isinstance(box, Discard) for box in diagram.boxes):
        raise UnsupportedOperationError(
            "the diagram discards qubits; build it with postselection (the ansatz's discard=False)"
        )
    # to_circuital closes the open wires with discards: those are the outputs
    info = readoff_circuital(to_circuital(diagram))
    slots: dict[str, int] = {}
    ops: list[Op] = []
    for gate in info.gates:
        kind = gate.gtype
        if kind == "Scalar":
            continue
        qubits = tuple(gate.qubits)
        if kind in ("S", "T") and gate.dagger:
            ops.append((kind + "dg", qubits, None))
        elif kind in _FIXED or kind in _CONTROLLED:
            ops.append((kind, qubits, None))
        elif kind in _ROTATIONS or (kind[:1] == "C" and kind[1:] in _ROTATIONS):
            factor = _ROTATIONS[kind.lstrip("C")][1] * (-1 if gate.dagger else 1)
            ops.append((kind, qubits, _angle(gate.phase, factor, slots)))
        else:
            raise UnsupportedOperationError(f"lambeq gate {gate.name!r} has no Qiskit counterpart here")
    shape = CircuitShape(
        info.total_qubits,
        tuple(ops),
        tuple(sorted(info.postmap.items())),
        tuple(sorted(info.discards)),
        len(slots),
    )
    return Converted(shape, tuple(slots))


def to_qiskit(diagram: QuantumDiagram) -> QuantumCircuit:
    """A lambeq quantum diagram as a Qiskit circuit: one ``Parameter`` per lambeq symbol (angles
    in radians: ``2*pi`` times lambeq's turns), each ``Bra`` a :class:`circuits.Postselect`."""
    return convert(diagram).circuit()
