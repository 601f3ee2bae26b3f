"""Lower any circuit to a small gate set where every parameter is one rotation angle.

The engines that are not torch-native (PennyLane, Aer, CUDA-Q, IBM) run this
*gate-level program*: the circuit transpiled by Qiskit to ``BASIS`` with each
parametrised angle replaced by its own fresh parameter ``g[k]``. Each ``g[k]``
drives one ``rx``/``ry``/``rz``, so ``d<H>/dg[k]`` is the two-term shift rule,
and the chain rule back to the user's parameters runs through torch-compiled
angle expressions (:func:`GateProgram.angles`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from qiskit import QuantumCircuit, transpile
from qiskit.circuit import ControlFlowOp, ParameterExpression, ParameterVector
from qiskit.transpiler.exceptions import TranspilerError

from ..errors import UnsupportedOperationError
from .cache import CompileCache
from .loops import unroll_for_loops
from .torch_engine.expressions import Evaluator, compile_parameter

ROTATIONS = ("rx", "ry", "rz")
FIXED = ("id", "x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "sxdg", "cx", "cz", "swap", "ccx")
NON_UNITARY = ("measure", "reset")
BASIS = ROTATIONS + FIXED + NON_UNITARY


@dataclass
class GateProgram:
    """A circuit over :data:`BASIS` whose parameters are the angle vector ``g``."""

    circuit: QuantumCircuit  # with measurements, as given
    body: QuantumCircuit  # final measurements removed: what expectation values run on
    angle_vector: ParameterVector
    evaluators: list[Evaluator]
    phase: Evaluator  # global phase of the transpiled circuit, for state vectors
    mid_circuit: bool  # measure/reset/control flow before the end: no state vector
    measured: bool  # the circuit measures into classical bits
    angle_deps: tuple = ()  # per angle: the user parameter columns it depends on

    @property
    def n_qubits(self) -> int:
        return self.circuit.num_qubits

    @property
    def n_angles(self) -> int:
        return len(self.evaluators)

    def angles(self, values: torch.Tensor) -> torch.Tensor:
        """``(B, K)`` gate angles from the ``(B, P)`` user values; differentiable."""
        batch = values.shape[0]
        if not self.evaluators:
            return values.new_zeros(batch, 0)
        cols = []
        for fn in self.evaluators:
            v = fn(values)
            cols.append(v if isinstance(v, torch.Tensor) else values.new_full((batch,), float(v)))
        return torch.stack(cols, dim=1)

    def global_phase(self, values: torch.Tensor) -> np.ndarray:
        """``(B,)`` global phase in radians."""
        v = self.phase(values)
        if isinstance(v, torch.Tensor):
            return v.detach().double().cpu().numpy()
        return np.full(values.shape[0], float(v))


def _rebuild(circuit: QuantumCircuit, g: ParameterVector, exprs: list, counter: list[int]):
    """Copy ``circuit`` with each parametrised angle replaced by the next ``g[k]``."""
    out = circuit.copy_empty_like()
    out.global_phase = 0
    for inst in circuit.data:
        op = inst.operation
        if isinstance(op, ControlFlowOp):
            blocks = [_rebuild(b, g, exprs, counter) for b in op.blocks]
            op = op.replace_blocks(blocks)
        elif op.params and any(isinstance(p, ParameterExpression) and p.parameters for p in op.params):
            if op.name not in ROTATIONS:
                raise UnsupportedOperationError(
                    f"gate {op.name!r} kept a symbolic parameter after lowering; this engine "
                    "needs every parameter inside rx/ry/rz"
                )
            exprs.append(op.params[0])
            op = op.copy()
            op.params = [g[counter[0]]]
            counter[0] += 1
        out.append(op, inst.qubits, inst.clbits, copy=False)
    return out


def _count_angles(circuit: QuantumCircuit) -> int:
    n = 0
    for inst in circuit.data:
        op = inst.operation
        if isinstance(op, ControlFlowOp):
            n += sum(_count_angles(b) for b in op.blocks)
        elif any(isinstance(p, ParameterExpression) and p.parameters for p in op.params):
            n += 1
    return n


def _mid_circuit(body: QuantumCircuit) -> bool:
    return any(
        isinstance(inst.operation, ControlFlowOp) or inst.operation.name in ("measure", "reset")
        for inst in body.data
    )


def _build(circuit: QuantumCircuit) -> GateProgram:
    try:
        t = transpile(unroll_for_loops(circuit), basis_gates=list(BASIS), optimization_level=0)
    except TranspilerError as exc:
        raise UnsupportedOperationError(
            f"cannot lower the circuit to the gate set {{{', '.join(BASIS)}}}: {exc}"
        ) from None
    index = {p.name: i for i, p in enumerate(circuit.parameters)}
    g = ParameterVector("g", _count_angles(t))
    exprs: list = []
    lowered = _rebuild(t, g, exprs, [0])
    lowered.global_phase = 0
    body = lowered.remove_final_measurements(inplace=False)
    # remove_final_measurements drops idle classical registers; keep the bits for if_else bodies
    measured = any(inst.operation.name == "measure" for inst in lowered.data) or any(
        isinstance(inst.operation, ControlFlowOp) for inst in lowered.data
    )
    return GateProgram(
        circuit=lowered,
        body=body,
        angle_vector=g,
        evaluators=[compile_parameter(e, index) for e in exprs],
        phase=compile_parameter(t.global_phase, index),
        mid_circuit=_mid_circuit(body),
        measured=measured,
        angle_deps=tuple(frozenset(index[p.name] for p in e.parameters if p.name in index) for e in exprs),
    )


lower = CompileCache(_build)
lower.__doc__ = "The :class:`GateProgram` of a circuit, cached by structure."
