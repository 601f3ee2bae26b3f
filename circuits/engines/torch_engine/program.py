"""Lower a ``QuantumCircuit`` into a fused program of tensor operations.

Lowering turns each instruction into an :class:`Op` (dense matrix, diagonal,
index permutation, global phase, or a non-unitary step); fusion then merges
runs of single-qubit gates, neighbouring diagonals and neighbouring
permutations so that each state-vector pass does as much work as it can.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import ControlledGate, Gate, Instruction, ParameterExpression
from qiskit.quantum_info import Operator

from ...errors import UnsupportedOperationError
from . import gates
from .expressions import compile_parameter

MatrixFn = Callable[[torch.Tensor, torch.dtype, torch.device], torch.Tensor]

SKIPPED = {"barrier", "delay", "id", "i"}
NON_UNITARY = {"measure", "reset", "postselect"}
MAX_DENSE_CONST_QUBITS = 10  # larger constant gates are lowered through their definition
MAX_FUSED_PERM_QUBITS = 22  # full-register permutation index arrays up to 2**22 entries
MAX_FUSED_DIAG_QUBITS = 10


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
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def parametric(self) -> bool:
        return self.fn is not None

    def tensor(self, values: torch.Tensor, dtype: torch.dtype, device) -> torch.Tensor:
        """The op's matrix / diagonal / phase as a tensor with a leading batch axis."""
        if self.fn is not None:
            return self.fn(values, dtype, device)
        key = (dtype, str(device))
        t = self.cache.get(key)
        if t is None:
            t = torch.tensor(np.array(self.const), dtype=dtype, device=device).unsqueeze(0)
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
                f"instruction {inst.name!r} has no matrix and no definition the torch engine "
                f"can use: {exc}"
            ) from None


def _classify_const(m: np.ndarray, qubits: tuple[int, ...]) -> Op:
    off = m - np.diag(np.diag(m))
    if not off.any():
        return Op("diag", qubits, const=np.diag(m).copy())
    nz = m != 0
    if (nz.sum(axis=1) == 1).all() and (nz.sum(axis=0) == 1).all():
        return Op("monomial", qubits, const=m)
    return Op("dense", qubits, const=m)


def _param_fn(inst: Instruction, index: dict[str, int]) -> tuple[str, MatrixFn] | None:
    """A (kind, fn) for a gate with free parameters, or None to lower through its definition."""
    name = inst.name
    evals = [compile_parameter(p, index) for p in inst.params]

    def values_of(v):
        return [e(v) for e in evals]

    if name in gates.PARAMETRIC:
        diagonal, f = gates.PARAMETRIC[name]
        return ("diag" if diagonal else "dense"), lambda v, dt, dev: f(values_of(v), dt, dev)
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

        return ("diag" if diagonal else "dense"), fn
    if name == "global_phase":
        return "phase", lambda v, dt, dev: gates._expi(gates._t(values_of(v)[0], dt, dev), dt)
    return None


def lower(circuit: QuantumCircuit, index: dict[str, int]) -> list[Op]:
    """Lower ``circuit`` into unfused ops; parameters are looked up by name in ``index``."""
    ops: list[Op] = []
    _lower_into(circuit, list(range(circuit.num_qubits)), list(range(circuit.num_clbits)),
                index, ops)
    return ops


def _lower_into(circuit, qmap, cmap, index, ops) -> None:
    gp = circuit.global_phase
    if isinstance(gp, ParameterExpression) and gp.parameters:
        ev = compile_parameter(gp, index)
        ops.append(Op("phase", (), fn=lambda v, dt, dev: gates._expi(gates._t(ev(v), dt, dev), dt)))
    elif float(gp) != 0.0:
        ops.append(Op("phase", (), const=np.array([np.exp(1j * float(gp))])))
    for inst in circuit.data:
        op = inst.operation
        name = op.name
        qubits = tuple(qmap[circuit.find_bit(q).index] for q in inst.qubits)
        clbits = tuple(cmap[circuit.find_bit(c).index] for c in inst.clbits)
        if getattr(op, "condition", None) is not None or op.name in {
            "if_else", "while_loop", "for_loop", "switch_case", "box", "break_loop",
            "continue_loop",
        }:
            if name == "box":
                _lower_into(op.blocks[0], list(qubits), list(clbits), index, ops)
                continue
            raise UnsupportedOperationError(
                f"classical control flow ({name}) is not supported by the torch engine; "
                "use engine='aer'"
            )
        if name in SKIPPED:
            continue
        if name == "measure":
            ops.append(Op("measure", qubits, clbit=clbits[0]))
            continue
        if name == "reset":
            ops.append(Op("reset", qubits))
            continue
        if name == "postselect":
            ops.append(Op("postselect", qubits, value=int(op.params[0])))
            continue
        if not isinstance(op, (Gate, Instruction)):
            raise UnsupportedOperationError(f"unsupported operation {name!r}")
        if name == "global_phase" and not _params_free(op):
            ops.append(Op("phase", (), const=np.array([np.exp(1j * float(op.params[0]))])))
            continue
        if _params_free(op):
            lowered = _param_fn(op, index)
            if lowered is not None:
                kind, fn = lowered
                ops.append(Op(kind, qubits if kind != "phase" else (), fn=fn))
                continue
        elif isinstance(op, Gate) and (
            op.num_qubits <= MAX_DENSE_CONST_QUBITS or op.definition is None
        ):
            ops.append(_classify_const(_const_matrix(op), qubits))
            continue
        definition = op.definition
        if definition is None:
            raise UnsupportedOperationError(
                f"instruction {name!r} is not supported by the torch engine "
                "(it has no matrix and no definition)"
            )
        _lower_into(definition, list(qubits), list(clbits), index, ops)


# --------------------------------------------------------------------------------------------
# fusion
# --------------------------------------------------------------------------------------------
def _compose_fn(parts: list[Op]) -> tuple[str, MatrixFn | None, np.ndarray | None]:
    """Fuse single-qubit ops on one qubit (in time order) into one op."""
    all_diag = all(p.kind == "diag" for p in parts)
    if not any(p.parametric for p in parts):
        m = np.eye(2, dtype=np.complex128)
        for p in parts:
            m = (np.diag(p.const) if p.kind == "diag" else p.const) @ m
        return ("diag", None, np.diag(m).copy()) if all_diag else ("dense", None, m)

    def fn(v, dt, dev):
        acc = None
        for p in parts:
            t = p.tensor(v, dt, dev)
            if all_diag:
                acc = t if acc is None else acc * t
            else:
                t = torch.diag_embed(t) if p.kind == "diag" else t
                acc = t if acc is None else t @ acc
        return acc

    return ("diag" if all_diag else "dense"), fn, None


def fuse_single_qubit(ops: list[Op]) -> list[Op]:
    """Merge each maximal run of single-qubit unitaries on a qubit into one op at the run's start."""
    out: list[Op | list] = []
    open_run: dict[int, list] = {}
    for op in ops:
        if op.kind in ("dense", "diag", "monomial") and len(op.qubits) == 1:
            q = op.qubits[0]
            if q in open_run:
                open_run[q].append(op)
            else:
                run = [op]
                open_run[q] = run
                out.append(run)
            continue
        for q in op.qubits:
            open_run.pop(q, None)
        out.append(op)
    fused: list[Op] = []
    for item in out:
        if isinstance(item, Op):
            fused.append(item)
        elif len(item) == 1:
            fused.append(item[0])
        else:
            kind, fn, const = _compose_fn(
                [Op("dense", p.qubits, const=p.const) if p.kind == "monomial" else p for p in item]
            )
            fused.append(Op(kind, item[0].qubits, const=const, fn=fn))
    return fused


def _bits(n: int) -> np.ndarray:
    return np.arange(1 << n, dtype=np.int64)


def _monomial_on_register(op: Op, n: int) -> tuple[np.ndarray, np.ndarray]:
    """For a monomial gate, (source index f, phase) over the full register: out[i]=ph[i]*in[f[i]]."""
    m = op.const
    idx = _bits(n)
    sub_out = np.zeros_like(idx)
    for j, q in enumerate(op.qubits):
        sub_out |= ((idx >> q) & 1) << j
    sigma = np.argmax(m != 0, axis=1)  # input sub-index for each output sub-index
    ph = m[np.arange(m.shape[0]), sigma]
    sub_in = sigma[sub_out]
    src = idx.copy()
    for j, q in enumerate(op.qubits):
        src &= ~(1 << q)
        src |= ((sub_in >> j) & 1) << q
    return src, ph[sub_out]


def _merge_perms(group: list[Op], n: int) -> Op:
    src = _bits(n)
    phase = np.ones(1 << n, dtype=np.complex128)
    for op in group:
        f, ph = _monomial_on_register(op, n)
        src = src[f]
        phase = ph * phase[f]
    qubits = tuple(sorted({q for op in group for q in op.qubits}))
    trivial = np.allclose(phase, 1.0)
    return Op("perm", qubits, const=None if trivial else phase, perm=src)


def _merge_diags(group: list[Op]) -> Op:
    qubits = tuple(sorted({q for op in group for q in op.qubits}))
    k = len(qubits)
    pos = {q: j for j, q in enumerate(qubits)}
    sub = np.arange(1 << k)
    gathers = []
    for op in group:
        local = np.zeros_like(sub)
        for j, q in enumerate(op.qubits):
            local |= ((sub >> pos[q]) & 1) << j
        gathers.append(local)
    if not any(op.parametric for op in group):
        d = np.ones(1 << k, dtype=np.complex128)
        for op, g in zip(group, gathers, strict=True):
            d = d * op.const[g]
        return Op("diag", qubits, const=d)
    gathers_t = [torch.as_tensor(g) for g in gathers]

    def fn(v, dt, dev):
        acc = None
        for op, g in zip(group, gathers_t, strict=True):
            t = op.tensor(v, dt, dev)[:, g.to(dev)]
            acc = t if acc is None else acc * t
        return acc

    return Op("diag", qubits, fn=fn)


def fuse_neighbours(ops: list[Op], n: int, merge_perms: bool = True) -> list[Op]:
    """Merge neighbouring diagonals, and neighbouring permutation gates into one gather."""
    out: list[Op] = []
    i = 0
    while i < len(ops):
        op = ops[i]
        if op.kind == "diag":
            group, qs = [op], set(op.qubits)
            j = i + 1
            while j < len(ops) and ops[j].kind == "diag" and len(qs | set(ops[j].qubits)) <= (
                MAX_FUSED_DIAG_QUBITS
            ):
                qs |= set(ops[j].qubits)
                group.append(ops[j])
                j += 1
            out.append(group[0] if len(group) == 1 else _merge_diags(group))
            i = j
            continue
        if op.kind == "monomial":
            j = i
            while j < len(ops) and ops[j].kind == "monomial":
                j += 1
            group = ops[i:j]
            if merge_perms and n <= MAX_FUSED_PERM_QUBITS:
                out.append(_merge_perms(group, n))
            else:
                out.extend(Op("dense", g.qubits, const=g.const) for g in group)
            i = j
            continue
        out.append(op)
        i += 1
    return out


def fuse(ops: list[Op], n: int, merge_perms: bool = True) -> list[Op]:
    """Fuse lowered ops; global phases are gathered at the front."""
    phases = [o for o in ops if o.kind == "phase"]
    rest = [o for o in ops if o.kind != "phase"]
    return phases + fuse_neighbours(fuse_single_qubit(rest), n, merge_perms)


def split_terminal_measurements(ops: list[Op]) -> tuple[list[Op], list[Op], bool]:
    """Return (ops without terminal measurements, the terminal measurements, needs_density).

    A measurement is terminal when nothing but measurements touches its qubit
    afterwards; any other measurement, and any reset, needs density-matrix mode.
    """
    touched_later: set[int] = set()
    terminal: list[Op] = []
    body: list[Op] = []
    needs_density = False
    for op in reversed(ops):
        if op.kind == "measure" and op.qubits[0] not in touched_later:
            terminal.append(op)
            continue
        if op.kind in ("measure", "reset"):
            needs_density = True
        touched_later.update(op.qubits)
        body.append(op)
    return body[::-1], terminal[::-1], needs_density
