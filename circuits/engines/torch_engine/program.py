"""Lower a ``QuantumCircuit`` into primitive ops the torch engine understands.

Each instruction becomes an :class:`Op`: a dense matrix, a diagonal, a
monomial (permutation with phases), a global phase, or a non-unitary step
(measure, reset, postselect). Composite gates are lowered through their
definitions. Fusion into bigger blocks happens later (:mod:`.fusion`), per call,
because it depends on which parameters vary across the batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import ControlledGate, Gate, Instruction, Parameter, ParameterExpression
from qiskit.quantum_info import Operator, SparsePauliOp

from ...errors import UnsupportedOperationError
from ..loops import loop_bodies
from . import gates
from .expressions import compile_parameter

MatrixFn = Callable[[torch.Tensor, torch.dtype, torch.device], torch.Tensor]

SKIPPED = {"barrier", "delay", "id", "i"}
NON_UNITARY = {"measure", "reset", "postselect"}
MAX_DENSE_CONST_QUBITS = 10  # larger constant gates are lowered through their definition


@dataclass
class Op:
    """One step of a program.

    kind: ``dense`` (matrix ``(B,d,d)``), ``diag`` (diagonal ``(B,d)``), ``perm``
    (full-register gather with optional constant phases), ``phase`` (global phase
    ``(B,)``), ``measure``, ``reset`` or ``postselect``.
    ``qubits``: matrix index bit j belongs to ``qubits[j]`` (Qiskit order).
    """

    kind: str
    qubits: tuple[int, ...]
    const: np.ndarray | None = None
    fn: MatrixFn | None = None
    clbit: int | None = None
    value: int | None = None
    perm: np.ndarray | None = None  # canonical full-register gather index
    gate: str | None = None  # PARAMETRIC gate name, evaluated in bulk with others of its kind
    args: tuple = ()  # for ``gate``: per argument ("col", j) or ("const", value)
    deps: frozenset = frozenset()  # parameter columns the op depends on
    parts: tuple = ()  # for a compound single-qubit op: its gates in time order
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def parametric(self) -> bool:
        return self.fn is not None or self.gate is not None or bool(self.parts)

    def tensor(self, values: torch.Tensor, dtype: torch.dtype, device) -> torch.Tensor:
        """The op's matrix / diagonal / phase as a tensor with a leading batch axis."""
        if self.gate is not None:
            diagonal, f = gates.PARAMETRIC[self.gate]
            return f([values[:, a[1]] if a[0] == "col" else a[1] for a in self.args], dtype, device)
        if self.fn is not None:
            return self.fn(values, dtype, device)
        key = (dtype, str(device))
        t = self.cache.get(key)
        if t is None:
            const = np.array(self.const) if dtype.is_complex else np.real(self.const)  # real: checked
            t = torch.tensor(const, dtype=dtype, device=device).unsqueeze(0)
            self.cache[key] = t
        return t


# --------------------------------------------------------------------------------------------
# lowering
# --------------------------------------------------------------------------------------------
def _params_free(inst: Instruction) -> bool:
    return any(isinstance(p, ParameterExpression) and p.parameters for p in inst.params)


def _const_matrix(inst: Instruction) -> np.ndarray:
    try:
        return np.asarray(inst.to_matrix(), dtype=np.complex128)
    except Exception:
        try:
            return np.asarray(Operator(inst).data, dtype=np.complex128)
        except Exception as exc:
            raise UnsupportedOperationError(
                f"instruction {inst.name!r} has no matrix and no definition the torch engine can use: {exc}"
            ) from None


def _classify_const(m: np.ndarray, qubits: tuple[int, ...]) -> Op:
    off = m - np.diag(np.diag(m))
    if not off.any():
        return Op("diag", qubits, const=np.diag(m).copy())
    nz = m != 0
    if (nz.sum(axis=1) == 1).all() and (nz.sum(axis=0) == 1).all():
        return Op("monomial", qubits, const=m)
    return Op("dense", qubits, const=m)


def _deps(inst: Instruction, index: dict[str, int]) -> frozenset:
    cols = set()
    for p in inst.params:
        if isinstance(p, ParameterExpression):
            cols.update(index[q.name] for q in p.parameters if q.name in index)
    return frozenset(cols)


def _simple_args(inst: Instruction, index: dict[str, int]) -> tuple | None:
    """Arguments as ("col", j) / ("const", v) when each is a bare parameter or a number."""
    out = []
    for p in inst.params:
        if isinstance(p, Parameter):
            if p.name not in index:
                return None
            out.append(("col", index[p.name]))
        elif isinstance(p, ParameterExpression):
            if p.parameters:
                return None
            out.append(("const", float(p)))
        else:
            out.append(("const", float(p)))
    return tuple(out)


def _param_op(inst: Instruction, qubits, index: dict[str, int]) -> Op | None:
    """An op for a gate with free parameters, or None to lower it through its definition."""
    name = inst.name
    deps = _deps(inst, index)
    if name in gates.PARAMETRIC:
        diagonal, f = gates.PARAMETRIC[name]
        kind = "diag" if diagonal else "dense"
        args = _simple_args(inst, index)
        if args is not None:
            return Op(kind, qubits, gate=name, args=args, deps=deps)
        evals = [compile_parameter(p, index) for p in inst.params]
        return Op(kind, qubits, fn=lambda v, dt, dev: f([e(v) for e in evals], dt, dev), deps=deps)
    evals = [compile_parameter(p, index) for p in inst.params]

    def values_of(v):
        return [e(v) for e in evals]

    if isinstance(inst, ControlledGate):
        n_ctrl, state = inst.num_ctrl_qubits, inst.ctrl_state
        if name == "cu":
            block_fn, diagonal = gates.cu_block, False
        else:
            base = gates.CONTROLLED_BASE.get(name, inst.base_gate.name)
            if base not in gates.PARAMETRIC:
                return None
            diagonal, block_fn = gates.PARAMETRIC[base]

        def fn(v, dt, dev, block_fn=block_fn, diagonal=diagonal):
            return gates.controlled(block_fn(values_of(v), dt, dev), n_ctrl, state, diagonal)

        return Op("diag" if diagonal else "dense", qubits, fn=fn, deps=deps)
    if name == "PauliEvolution" and inst.num_qubits <= MAX_DENSE_CONST_QUBITS:
        return _pauli_evolution(inst, qubits, evals[0], deps)
    if name == "global_phase":
        return Op(
            "phase",
            (),
            fn=lambda v, dt, dev: gates.phase(values_of(v)[0], dt, dev),
            deps=deps,
        )
    return None


def _pauli_evolution(inst, qubits, time_eval, deps) -> Op:
    """``exp(-i t H)`` exactly (not Trotterised), from the spectral decomposition of ``H``."""
    ops = inst.operator if isinstance(inst.operator, list) else [inst.operator]
    h = sum((SparsePauliOp(o) for o in ops[1:]), SparsePauliOp(ops[0])).simplify()
    mat = h.to_matrix()
    if not np.allclose(mat, mat.conj().T):
        raise UnsupportedOperationError("PauliEvolutionGate with a non-Hermitian operator")
    if np.count_nonzero(mat - np.diag(np.diag(mat))) == 0:
        energies = np.diag(mat).real.copy()

        def diag_fn(v, dt, dev):
            t = gates._t(time_eval(v), dt, dev)
            e = torch.as_tensor(energies, dtype=t.dtype, device=dev)
            return gates._expi(-t[:, None] * e, dt)

        return Op("diag", qubits, fn=diag_fn, deps=deps)
    energies, vecs = np.linalg.eigh(mat)

    def dense_fn(v, dt, dev):
        t = gates._t(time_eval(v), dt, dev)
        e = torch.as_tensor(energies, dtype=t.dtype, device=dev)
        w = torch.as_tensor(vecs, dtype=dt, device=dev)
        phases = gates._expi(-t[:, None] * e, dt)  # (B, d)
        return (w * phases[:, None, :]) @ w.conj().T

    return Op("dense", qubits, fn=dense_fn, deps=deps)


def lower(circuit: QuantumCircuit, index: dict[str, int]) -> list[Op]:
    """Lower ``circuit`` into ops; parameters are looked up by name in ``index``.

    Classically conditioned blocks (``if_else``) become gates controlled by *record
    qubits* ``n + clbit`` that hold measurement outcomes in density-matrix mode.
    """
    ops: list[Op] = []
    _lower_into(
        circuit,
        list(range(circuit.num_qubits)),
        list(range(circuit.num_clbits)),
        index,
        ops,
        (),
        circuit.num_qubits,
    )
    return ops


_CONTROL_FLOW = {"while_loop", "for_loop", "switch_case", "break_loop", "continue_loop"}


def _condition_controls(circuit, op, cmap, n_qubits) -> tuple[tuple[int, int], ...]:
    """(record qubit, required bit) pairs for an ``if_else`` condition."""
    cond = op.condition
    if not isinstance(cond, tuple):
        raise UnsupportedOperationError(
            "if_else with a classical expression is not supported by the torch engine; use engine='aer'"
        )
    target, value = cond
    bits = list(target) if hasattr(target, "__len__") else [target]
    return tuple(
        (n_qubits + cmap[circuit.find_bit(b).index], (int(value) >> j) & 1) for j, b in enumerate(bits)
    )


def _with_controls(op: Op, controls: tuple[tuple[int, int], ...]) -> Op:
    """``op`` applied only when the record qubits hold the required bits."""
    if not controls:
        return op
    if op.kind in NON_UNITARY:
        raise UnsupportedOperationError(
            f"{op.kind} inside a classically conditioned block is not supported by the torch "
            "engine; use engine='aer'"
        )
    ctrl = tuple(q for q, _ in controls)
    state = sum(bit << j for j, (_, bit) in enumerate(controls))
    n_ctrl = len(ctrl)
    if n_ctrl + len(op.qubits) > MAX_DENSE_CONST_QUBITS:
        raise UnsupportedOperationError(
            f"a gate conditioned on {n_ctrl} classical bits is too wide for the torch engine's "
            "density-matrix mode (it holds each classical bit as a record qubit); use engine='aer'"
        )
    if op.kind == "phase":
        diag = True
        qubits = ctrl
    else:
        diag = op.kind == "diag"
        qubits = ctrl + op.qubits
    if not op.parametric:
        block = op.const
        if op.kind == "phase":
            block = np.asarray(op.const).reshape(1)
        block_t = torch.as_tensor(np.array(block)).unsqueeze(0)
        if op.kind == "phase":
            out = gates.controlled(block_t, n_ctrl, state, True)[0].numpy()
            return Op("diag", qubits, const=out)
        full = gates.controlled(block_t, n_ctrl, state, diag)[0].numpy()
        return Op("diag", qubits, const=full) if diag else _classify_const(full, qubits)

    def fn(v, dt, dev, op=op):
        t = op.tensor(v, dt, dev)
        if op.kind == "phase":
            t = t.reshape(-1, 1)
        return gates.controlled(t, n_ctrl, state, diag)

    return Op("diag" if diag else "dense", qubits, fn=fn, deps=op.deps)


def _lower_into(circuit, qmap, cmap, index, ops, controls, n_qubits) -> None:
    def emit(op: Op) -> None:
        ops.append(_with_controls(op, controls))

    gp = circuit.global_phase
    if isinstance(gp, ParameterExpression) and gp.parameters:
        ev = compile_parameter(gp, index)
        emit(
            Op(
                "phase",
                (),
                fn=lambda v, dt, dev: gates.phase(ev(v), dt, dev),
                deps=frozenset(index[q.name] for q in gp.parameters if q.name in index),
            )
        )
    elif float(gp) != 0.0:
        emit(Op("phase", (), const=np.array([np.exp(1j * float(gp))])))
    for inst in circuit.data:
        op = inst.operation
        name = op.name
        qubits = tuple(qmap[circuit.find_bit(q).index] for q in inst.qubits)
        clbits = tuple(cmap[circuit.find_bit(c).index] for c in inst.clbits)
        if name == "box":
            _lower_into(op.blocks[0], list(qubits), list(clbits), index, ops, controls, n_qubits)
            continue
        if name == "if_else":
            cond = _condition_controls(circuit, op, cmap, n_qubits)
            true_body, false_body = op.blocks[0], (op.blocks[1] if len(op.blocks) > 1 else None)
            _lower_into(true_body, list(qubits), list(clbits), index, ops, controls + cond, n_qubits)
            if false_body is not None:
                if len(cond) != 1:
                    raise UnsupportedOperationError(
                        "an else branch on a multi-bit register condition is not supported by "
                        "the torch engine; use engine='aer'"
                    )
                flipped = ((cond[0][0], 1 - cond[0][1]),)
                _lower_into(false_body, list(qubits), list(clbits), index, ops, controls + flipped, n_qubits)
            continue
        if name == "for_loop":  # a fixed number of iterations: unrolled
            for body in loop_bodies(op):
                _lower_into(body, list(qubits), list(clbits), index, ops, controls, n_qubits)
            continue
        if name in _CONTROL_FLOW:
            where = "engine='aer' (sample, or expval with shots=)" if name == "while_loop" else "engine='aer'"
            raise UnsupportedOperationError(
                f"classical control flow ({name}) is not supported by the torch engine; use {where}"
            )
        if name in SKIPPED:
            continue
        if name == "measure":
            emit(Op("measure", qubits, clbit=clbits[0]))
            continue
        if name == "reset":
            emit(Op("reset", qubits))
            continue
        if name == "postselect":
            emit(Op("postselect", qubits, value=int(op.params[0])))
            continue
        if not isinstance(op, (Gate, Instruction)):
            raise UnsupportedOperationError(f"unsupported operation {name!r}")
        if name == "global_phase" and not _params_free(op):
            emit(Op("phase", (), const=np.array([np.exp(1j * float(op.params[0]))])))
            continue
        if _params_free(op):
            lowered = _param_op(op, qubits, index)
            if lowered is not None:
                emit(lowered)
                continue
        elif isinstance(op, Gate) and (op.num_qubits <= MAX_DENSE_CONST_QUBITS or op.definition is None):
            emit(_classify_const(_const_matrix(op), qubits))
            continue
        definition = op.definition
        if definition is None:
            raise UnsupportedOperationError(
                f"instruction {name!r} is not supported by the torch engine "
                "(it has no matrix and no definition)"
            )
        _lower_into(definition, list(qubits), list(clbits), index, ops, controls, n_qubits)


def uses_records(ops: list[Op], n_qubits: int) -> bool:
    """Whether some op is classically conditioned (acts on a record qubit)."""
    return any(q >= n_qubits for op in ops for q in op.qubits)


def split_terminal_measurements(ops: list[Op], n_qubits: int) -> tuple[list[Op], list[Op], bool]:
    """Return (ops without terminal measurements, the terminal measurements, needs_density).

    A measurement is terminal when nothing but measurements touches its qubit, or
    reads its classical bit (record qubit ``n_qubits + clbit``), afterwards; any other
    measurement, and any reset, needs density-matrix mode.
    """
    touched_later: set[int] = set()
    terminal: list[Op] = []
    body: list[Op] = []
    needs_density = False
    for op in reversed(ops):
        if op.kind == "measure" and not {op.qubits[0], n_qubits + op.clbit} & touched_later:
            terminal.append(op)
            continue
        if op.kind in ("measure", "reset"):
            needs_density = True
        touched_later.update(op.qubits)
        body.append(op)
    return body[::-1], terminal[::-1], needs_density
