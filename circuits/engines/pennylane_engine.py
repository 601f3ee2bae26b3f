"""The ``pennylane`` engine: PennyLane devices (``default.qubit``, ``lightning.qubit/gpu/kokkos``).

A circuit is lowered once to its gate-level program (:mod:`.lowering`) and then to
a list of PennyLane operations (cached per program); Qiskit qubit ``q`` becomes
wire ``n-1-q``, so PennyLane's big-endian basis index equals Qiskit's little-endian
one and no state needs reordering. A batch of angle rows runs as one
parameter-broadcast QNode call, and gradients are PennyLane's own (backprop,
adjoint, parameter-shift...) through its torch interface.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from qiskit.quantum_info import SparsePauliOp

from ..errors import ConfigurationError, EngineUnavailableError, UnsupportedOperationError
from . import memory
from .base import check_optional_shots, empty_expval
from .lowering import GateProgram
from .shift import ShiftRuleEngine, key_picker, real_dtype


def _angles(prog: GateProgram, values: torch.Tensor, which: tuple[int, ...]) -> torch.Tensor:
    """``(B, len(which))`` gate angles ``which`` of the program for ``(B, P)`` values."""
    cols = []
    for k in which:
        v = prog.evaluators[k](values)
        cols.append(v if isinstance(v, torch.Tensor) else values.new_full((values.shape[0],), float(v)))
    return torch.stack(cols, dim=1) if cols else values.new_zeros(values.shape[0], 0)


def _merge_rotations(ops: list, where: dict[int, tuple[int, int]]) -> list:
    """``(op, wires, angle refs or None, constants)`` for the QNode, with each run RZ(a) RY(b) RZ(c)
    on one wire whose angles all come from the same argument merged into PennyLane's native
    ``Rot(a, b, c) = RZ(c) RY(b) RZ(a)``: one operation to apply and differentiate instead of three."""
    p = _pnl()
    out = []
    i = 0
    while i < len(ops):
        trio = ops[i : i + 3]
        if (
            len(trio) == 3
            and [t[0] for t in trio] == [p.RZ, p.RY, p.RZ]
            and all(t[2] is not None and t[1] == trio[0][1] for t in trio)
            and len({where[t[2]][0] for t in trio}) == 1
        ):
            out.append((p.Rot, trio[0][1], tuple(where[t[2]] for t in trio), ()))
            i += 3
            continue
        op, wires, index, const = ops[i]
        out.append((op, wires, None if index is None else (where[index],), const))
        i += 1
    return out


# pip packages of the PennyLane devices that do not ship with PennyLane itself
_PACKAGES = {
    "lightning.qubit": "pennylane-lightning",
    "lightning.gpu": "pennylane-lightning-gpu",
    "lightning.kokkos": "pennylane-lightning-kokkos",
    "lightning.tensor": "pennylane-lightning-tensor",
}
# diff methods PennyLane runs on broadcast tapes; gradient transforms (parameter-shift...) need them expanded
_BROADCAST_DIFF = ("backprop", "adjoint", "device", None)
_EXACT_ONLY = ("adjoint", "backprop")
_NO_OPS = ("id", "barrier", "delay")
_default_dtype_lock = threading.RLock()
_module: Any = None


def _pnl():
    """``import pennylane`` on first use (it takes a second or two)."""
    global _module
    if _module is None:
        import pennylane

        _module = pennylane
    return _module


def _gate_table() -> dict[str, Any]:
    """Qiskit basis-gate name -> the PennyLane operation that equals it exactly (phase included)."""
    p = _pnl()
    return {
        "rx": p.RX,
        "ry": p.RY,
        "rz": p.RZ,
        "x": p.PauliX,
        "y": p.PauliY,
        "z": p.PauliZ,
        "h": p.Hadamard,
        "s": p.S,
        "sdg": p.adjoint(p.S),
        "t": p.T,
        "tdg": p.adjoint(p.T),
        "sx": p.SX,
        "sxdg": p.adjoint(p.SX),
        "cx": p.CNOT,
        "cz": p.CZ,
        "swap": p.SWAP,
        "ccx": p.Toffoli,
    }


@contextmanager
def _float64_results():
    """Make PennyLane's torch interface keep float64 results: it converts the Python floats that
    lightning returns with ``torch.as_tensor``, which would round them to the default float32."""
    if torch.get_default_dtype() == torch.float64:
        yield
        return
    with _default_dtype_lock:
        old = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)
        try:
            yield
        finally:
            torch.set_default_dtype(old)


class PennyLaneEngine(ShiftRuleEngine):
    """Runs circuits on a PennyLane device.

    ``pennylane_device``: ``"default.qubit"`` (default), ``"lightning.qubit"``,
    ``"lightning.gpu"``, ``"lightning.kokkos"`` or any other installed PennyLane state-vector
    device. ``diff_method``: passed to the QNode (``"best"``, ``"backprop"``, ``"adjoint"``,
    ``"parameter-shift"``...; with ``shots=``, adjoint and backprop give way to ``"best"``, which is
    parameter-shift). ``max_memory``: bytes a run may use (default: what is free), checked before
    PennyLane allocates. Other keyword arguments go to ``pennylane.device`` unchanged.
    Mid-circuit measurement, reset and feed-forward are refused: use ``"torch"`` or ``"aer"``.
    """

    name = "pennylane"
    gpu_options = ({"pennylane_device": "lightning.gpu"}, {"pennylane_device": "lightning.kokkos"})

    @classmethod
    def availability(cls) -> str:
        try:
            _pnl()
        except ImportError as exc:
            return f"pennylane cannot be imported ({exc}): pip install pennylane"
        return "ok"

    def __init__(
        self,
        pennylane_device: str = "default.qubit",
        diff_method: str | None = "best",
        max_memory: int | None = None,
        **device_options: Any,
    ):
        p = _pnl()
        self.max_memory = max_memory
        self.pennylane_device = pennylane_device
        self.diff_method = diff_method
        self.device_options = dict(device_options)
        self._devices: dict[int, Any] = {}
        self._ops: dict[int, tuple[GateProgram, list]] = {}
        self._observables: dict[tuple, list] = {}
        self._qnodes: dict[tuple, tuple] = {}
        self._last_observables: tuple | None = None
        self._best: dict[bool, str] = {}  # shots given -> what diff_method="best" resolved to
        probe = self._device(1, None)  # a missing plugin or bad option fails here, not on the first run
        try:
            p.QNode(lambda: p.state(), probe, diff_method=diff_method)
        except p.exceptions.QuantumFunctionError as exc:
            raise ConfigurationError(f"bad diff_method {diff_method!r} for PennyLane: {exc}") from None

    def _memory_need(self, prog, rows, n_obs, grad):
        # default.qubit runs a broadcast batch at once and measures each observable on a copy;
        # its backprop keeps about 1.5 states per gate; lightning devices run one row at a time
        broadcast = self.pennylane_device == "default.qubit"
        at_once = rows if broadcast else 1
        copies = 4 + n_obs
        backprop = grad and broadcast and self.diff_method in ("best", "backprop")
        if backprop:
            copies += 1.5 * prog.n_angles
        what = f"{at_once} state vector(s) x {copies:.0f} copies{' (backprop)' if backprop else ''}"
        return at_once * copies * memory.amplitudes(prog.n_qubits) * 16, what

    def _memory_device(self) -> str:
        return "cuda" if self.pennylane_device == "lightning.gpu" and torch.cuda.is_available() else "cpu"

    # -- devices, operations, observables ----------------------------------------------------------
    def _device(self, n_qubits: int, seed: int | None):
        """A PennyLane device on ``n_qubits`` wires; seeded devices are fresh so a seed reproduces."""
        p = _pnl()
        if seed is None and n_qubits in self._devices:
            return self._devices[n_qubits]
        opts = dict(self.device_options)
        if seed is not None:
            opts["seed"] = int(seed)
        name = self.pennylane_device
        try:
            dev = p.device(name, wires=n_qubits, **opts)
        except p.exceptions.DeviceError as exc:
            package = _PACKAGES.get(name)
            if package is not None:
                hint = f"it comes with the {package} package: pip install {package}"
                if name in ("lightning.gpu", "lightning.tensor"):
                    hint += " (on a machine with an NVIDIA GPU and CUDA)"
            else:
                hint = f"installed devices: {', '.join(sorted(p.plugin_devices))}"
            msg = f"PennyLane device {name!r} is not available here ({exc}); {hint}"
            raise EngineUnavailableError(msg) from None
        except (ImportError, RuntimeError, OSError) as exc:
            raise EngineUnavailableError(f"PennyLane device {name!r} cannot start here: {exc}") from None
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"bad options {opts} for PennyLane device {name!r}: {exc}") from None
        if seed is None:
            self._devices[n_qubits] = dev
        return dev

    def _operations(self, prog: GateProgram) -> list:
        """``prog.body`` as ``(op class, wires, angle index or None, constant params)``, built once."""
        hit = self._ops.get(id(prog))
        if hit is not None and hit[0] is prog:
            return hit[1]
        table = _gate_table()
        body, n = prog.body, prog.n_qubits
        ops = []
        for inst in body.data:
            name = inst.operation.name
            if name in _NO_OPS:
                continue
            if name not in table:
                raise UnsupportedOperationError(
                    f"the pennylane engine cannot run {name!r} (it runs unitary gates with final "
                    "measurements only); use engine='torch' or 'aer'"
                )
            wires = [n - 1 - body.find_bit(q).index for q in inst.qubits]
            index, const = None, ()
            if inst.operation.params:
                (angle,) = inst.operation.params
                if getattr(angle, "parameters", None):
                    index = angle.index
                else:
                    const = (float(angle),)
            ops.append((table[name], wires, index, const))
        if len(self._ops) > 256:
            self._ops.clear()
        self._ops[id(prog)] = (prog, ops)  # holding prog keeps its id unique
        return ops

    def _pennylane_observables(self, observables: list[SparsePauliOp]) -> list:
        """Each observable as a PennyLane operator; label character ``i`` acts on wire ``i``."""
        last = self._last_observables
        if last is not None and len(last[0]) == len(observables):
            if all(a is b for a, b in zip(last[0], observables, strict=True)):
                return last[1]
        key = tuple((tuple(o.paulis.to_labels()), o.coeffs.tobytes()) for o in observables)
        hit = self._observables.get(key)
        if hit is not None:
            self._last_observables = (list(observables), hit)
            return hit
        from pennylane.pauli import PauliSentence, PauliWord

        out = []
        for o in observables:
            n = o.num_qubits
            sentence = PauliSentence()
            for label, c in zip(o.paulis.to_labels(), o.coeffs, strict=True):
                word = PauliWord({i: ch for i, ch in enumerate(label) if ch != "I"})
                sentence[word] = sentence.get(word, 0.0) + float(c.real)
            out.append(sentence.operation(wire_order=list(range(n))))
        if len(self._observables) > 256:
            self._observables.clear()
        self._observables[key] = out
        self._last_observables = (list(observables), out)
        return out

    def _qnode(
        self,
        prog: GateProgram,
        measure,
        shots: int | None,
        seed: int | None,
        interface: str = "numpy",
        diff: str | None = None,
        split: tuple | None = None,
    ):
        """A QNode applying ``prog.body`` to a ``(B, K)`` angle array (broadcast), then ``measure()``;
        with ``split`` = (per-sample, shared) angle indices it takes a ``(B, K1)`` array of the
        first and a ``(K2,)`` vector of the second."""
        p = _pnl()
        ops = self._operations(prog)
        if split is None:
            where = {k: (0, k) for k in range(prog.n_angles)}
        else:
            where = {k: (0, j) for j, k in enumerate(split[0])}
            where.update({k: (1, j) for j, k in enumerate(split[1])})

        recipe = _merge_rotations(ops, where)

        def circuit(*angles):
            for op, wires, refs, const in recipe:
                if refs is None:
                    op(*const, wires=wires)
                else:
                    op(*(angles[0][:, j] if src == 0 else angles[1][j] for src, j in refs), wires=wires)
            return measure()

        qnode = p.QNode(circuit, self._device(prog.n_qubits, seed), interface=interface, diff_method=diff)
        return qnode if shots is None else p.set_shots(qnode, shots=shots)

    def _diff_method(self, shots: int | None) -> str | None:
        """The QNode's diff method: with shots, exact-only methods (adjoint, backprop) give way to "best"."""
        if shots is not None and self.diff_method in _EXACT_ONLY:
            return "best"
        return self.diff_method

    def _broadcast_gradients(
        self, prog: GateProgram, measure, shots: int | None, args: tuple, split: tuple | None = None
    ) -> bool:
        """Whether the diff method differentiates broadcast tapes (gradient transforms do not)."""
        diff = self._diff_method(shots)
        if diff != "best":
            return diff in _BROADCAST_DIFF
        key = shots is not None
        if key not in self._best:
            probe = self._qnode(prog, measure, shots, None, "torch", "best", split=split)
            self._best[key] = _pnl().workflow.get_best_diff_method(probe)(*args)
        return self._best[key] in _BROADCAST_DIFF

    # -- the three primitives ----------------------------------------------------------------------
    def expval(self, circuit, observables, values, *, shots=None, seed=None, shared=None):
        """Expectation values ``(B, n_obs)``, differentiated by PennyLane through its torch interface.

        Angles that depend only on ``shared`` columns (a layer's weights) go to PennyLane as scalars,
        not as a broadcast column, so its device applies one matrix to the whole batch and sums
        their gradient over the batch itself, as a QNode written natively would.
        """
        check_optional_shots(shots)
        prog = self.program(circuit)
        batch = values.shape[0]
        if batch == 0:
            return empty_expval(values, len(observables), real_dtype(values))
        grad = torch.is_grad_enabled() and values.requires_grad
        self.check_memory(prog, batch, n_obs=len(observables), grad=grad, shots=shots)
        values64 = values.to(torch.float64)  # PennyLane runs in double; the result is cast back
        split = self._split(prog, shared, batch, shots)
        if split is None:
            args = (prog.angles(values64),) if prog.n_angles else ()
        else:
            per_sample, common = split
            args = (_angles(prog, values64, per_sample), _angles(prog, values64[:1], common)[0])
        need_grad = torch.is_grad_enabled() and any(a.requires_grad for a in args)
        if not need_grad:
            args = tuple(a.detach() for a in args)
        diff = self._diff_method(shots) if need_grad else None
        qnode = self._expval_qnode(prog, observables, split, shots, seed, diff)
        p = _pnl()
        # with shots, expand whether or not gradients are needed, so that a seed gives the same numbers
        expand = need_grad or shots is not None
        if expand and not self._broadcast_gradients(prog, qnode.measure, shots, args, split):
            qnode = p.transforms.broadcast_expand(qnode)
        with _float64_results():
            out = torch.stack([torch.as_tensor(r) for r in qnode(*args)], dim=-1)
        if out.ndim == 1:  # nothing varies across the batch: one row for all
            out = out.reshape(1, -1).repeat(batch, 1)
        dtype = values.dtype if values.is_floating_point() else torch.float64
        return out.to(dtype=dtype, device=values.device)

    def _split(self, prog: GateProgram, shared, batch: int, shots: int | None):
        """(per-sample angle indices, shared angle indices), or None to broadcast every angle
        (no sharing promised, a batch of one, or shots: each row then samples on its own)."""
        if shared is None or batch == 1 or shots is not None or not prog.n_angles:
            return None
        if len(prog.angle_deps) != prog.n_angles:
            return None
        varying = {j for j, s in enumerate(shared) if not s}
        common = tuple(k for k, deps in enumerate(prog.angle_deps) if not deps & varying)
        if not common:
            return None
        keep = set(common)
        return tuple(k for k in range(prog.n_angles) if k not in keep), common

    def _expval_qnode(self, prog, observables, split, shots, seed, diff):
        """The torch QNode measuring ``observables``, built once per program, observables, angle
        split and options (seeded runs get a fresh device, so they are not cached)."""
        obs = self._pennylane_observables(observables)
        key = (id(prog), id(obs), split, shots, diff)
        hit = self._qnodes.get(key) if seed is None else None
        if hit is not None and hit[0] is prog and hit[1] is obs:
            return hit[2]
        p = _pnl()

        def measure():
            return [p.expval(o) for o in obs]

        qnode = self._qnode(prog, measure, shots, seed, "torch", diff, split=split)
        qnode.measure = measure
        if seed is None:
            if len(self._qnodes) > 64:
                self._qnodes.clear()
            self._qnodes[key] = (prog, obs, qnode)
        return qnode

    def _expval_rows(self, prog, observables, rows, shots, seed):
        obs = self._pennylane_observables(observables)
        p = _pnl()
        qnode = self._qnode(prog, lambda: [p.expval(o) for o in obs], shots, seed)
        out = np.stack([np.asarray(r, dtype=np.float64) for r in qnode(*self._args(prog, rows))], -1)
        return out.reshape(-1, len(observables)).repeat(1 if prog.n_angles else rows.shape[0], axis=0)

    def _statevector_rows(self, prog, rows):
        p = _pnl()
        states = np.asarray(self._qnode(prog, p.state, None, None)(*self._args(prog, rows)))
        dim = 2**prog.n_qubits
        if states.shape[-1] != dim or states.size % dim:
            raise UnsupportedOperationError(
                f"PennyLane device {self.pennylane_device!r} returned a state of shape {states.shape}, "
                f"not vectors of {dim} amplitudes; use a state-vector device such as 'default.qubit'"
            )
        states = states.reshape(-1, dim).astype(np.complex128)
        return states if prog.n_angles else np.repeat(states, rows.shape[0], axis=0)

    def _sample_rows(self, prog, rows, shots, seed):
        p = _pnl()
        pick = key_picker(prog)
        qubits = sorted({q for q in pick if q >= 0})
        wires = [prog.n_qubits - 1 - q for q in qubits]
        qnode = self._qnode(prog, lambda: p.sample(wires=wires), shots, seed)
        count = rows.shape[0] if prog.n_angles else 1
        bits = np.asarray(qnode(*self._args(prog, rows))).reshape(count, shots, len(wires))
        column = {q: i for i, q in enumerate(qubits)}
        out = []
        for r in range(count):
            chars = np.full((shots, len(pick)), ord("0"), dtype=np.uint8)
            for j, q in enumerate(pick):
                if q >= 0:
                    chars[:, j] += bits[r, :, column[q]].astype(np.uint8)
            keys, hits = np.unique(chars, axis=0, return_counts=True)
            out.append({k.tobytes().decode(): int(h) for k, h in zip(keys, hits, strict=True)})
        return out if prog.n_angles else [dict(out[0]) for _ in range(rows.shape[0])]

    @staticmethod
    def _args(prog: GateProgram, rows: np.ndarray) -> tuple:
        return (np.ascontiguousarray(rows, dtype=np.float64),) if prog.n_angles else ()
