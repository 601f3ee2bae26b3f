"""Parameter-shift gradients for engines that return numbers, not torch graphs.

Every angle of a :class:`~circuits.engines.lowering.GateProgram` drives one
Pauli rotation ``exp(-i g P / 2)``, so ``d<H>/dg = (<H>(g + pi/2) - <H>(g - pi/2)) / 2``
exactly. The backward pass builds all ``2 K`` shifted rows of every batch entry
and evaluates them in *one* engine call; the chain rule from the angles back to
the user's parameters is left to torch autograd.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Sequence

import numpy as np
import torch
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from ..errors import UnsupportedOperationError
from . import capabilities, capabilities_of, memory
from .base import Engine, check_optional_shots, empty_expval, empty_statevector
from .lowering import GateProgram, lower

# rows (N, K) float64, seed -> (N, n_obs) float64
RowEvaluator = Callable[[np.ndarray, "int | None"], np.ndarray]


class ParameterShift(torch.autograd.Function):
    """``<H>(angles)`` with a parameter-shift backward; ``angles`` is ``(B, K)``."""

    @staticmethod
    def forward(ctx, angles: torch.Tensor, evaluate: RowEvaluator, seed: int | None):
        ctx.evaluate = evaluate
        ctx.seed = seed
        ctx.save_for_backward(angles)
        out = evaluate(angles.detach().double().cpu().numpy(), seed)
        return torch.as_tensor(out, dtype=angles.dtype, device=angles.device)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out: torch.Tensor):
        (angles,) = ctx.saved_tensors
        a = angles.detach().double().cpu().numpy()
        batch, k = a.shape
        if k == 0:
            return torch.zeros_like(angles), None, None
        shift = (np.pi / 2) * np.eye(k)
        rows = np.concatenate([a[:, None, :] + shift, a[:, None, :] - shift], axis=1)
        seed = None if ctx.seed is None else ctx.seed + 1
        f = ctx.evaluate(rows.reshape(batch * 2 * k, k), seed).reshape(batch, 2, k, -1)
        jac = (f[:, 0] - f[:, 1]) / 2  # (B, K, n_obs)
        g = np.einsum("bkn,bn->bk", jac, grad_out.detach().double().cpu().numpy())
        return torch.as_tensor(g, dtype=angles.dtype, device=angles.device), None, None


class ShiftRuleEngine(Engine):
    """Base of the engines that run a :class:`GateProgram` on rows of angles.

    Subclasses implement the ``_rows`` methods on numpy arrays; this class turns
    user values into angles, applies the parameter-shift rule for gradients and
    converts the results to torch tensors in Qiskit's conventions.
    """

    #: bytes a run may use (None: what the machine has free); engines take it as ``max_memory=``
    max_memory: int | None = None

    def _memory_need(self, prog: GateProgram, rows: int, n_obs: int, grad: bool) -> tuple[float, str] | None:
        """Bytes a run of ``rows`` angle rows holds at its peak and what it is (for the message);
        None where it cannot be told (tensor networks, hardware). Default: one double-precision
        state vector at a time, a few copies."""
        return 4 * memory.amplitudes(prog.n_qubits) * 16, "state vector (double precision, 4 copies)"

    def _memory_device(self) -> str:
        return "cpu"

    def check_memory(
        self, prog: GateProgram, rows: int, *, n_obs: int = 0, grad: bool = False, shots=None, states=False
    ) -> None:
        """Refuse, before anything is allocated, a run that would not fit in memory: its
        simulation, the ``rows`` state vectors it returns (``states``) and its shots table."""
        need = self._memory_need(prog, rows, n_obs, grad)
        if need is not None or states:
            size, what = need if need is not None else (0.0, "")
            if states:
                size += 2 * rows * memory.amplitudes(prog.n_qubits) * 16
                what += (" and " if what else "") + f"{rows} returned state vector(s)"
            memory.check(
                size,
                f"the {self.name} engine's {what} for {prog.n_qubits} qubits",
                "use fewer qubits or a smaller batch; for larger circuits use engine='cudaq' with "
                "target='nvidia-mgpu' (one state over many GPUs) or engine='aer' with "
                "method='matrix_product_state' (weakly entangled circuits)",
                limit=self.max_memory,
                device=self._memory_device(),
            )
        if shots is not None:
            memory.check_shots(shots, rows, prog.n_qubits, self.name, limit=self.max_memory)

    def program(self, circuit: QuantumCircuit, *, sampling: bool = False) -> GateProgram:
        """The circuit's gate-level program; refuses a dynamic circuit unless this engine's declared
        capabilities run one for this primitive (``sampling``: ``sample``, else ``expval``)."""
        prog = lower(circuit)
        field = "mid_circuit_sample" if sampling else "mid_circuit"
        caps = capabilities_of(self.name)
        if prog.mid_circuit and not (caps is not None and getattr(caps, field)):
            able = [name for name, c in capabilities().items() if getattr(c, field)]
            what = "samples" if sampling else "runs"
            raise UnsupportedOperationError(
                f"the {self.name} engine {what} unitary circuits with final measurements only; this "
                "circuit measures, resets or branches mid-circuit: use engine="
                + " or ".join(repr(name) for name in able)
            )
        return prog

    @abstractmethod
    def _expval_rows(
        self,
        prog: GateProgram,
        observables: list[SparsePauliOp],
        rows: np.ndarray,
        shots: int | None,
        seed: int | None,
    ) -> np.ndarray:
        """``(N, n_obs)`` expectation values for ``(N, K)`` angle rows."""

    @abstractmethod
    def _statevector_rows(self, prog: GateProgram, rows: np.ndarray) -> np.ndarray:
        """``(N, 2**n)`` state vectors (without the program's global phase)."""

    @abstractmethod
    def _sample_rows(
        self, prog: GateProgram, rows: np.ndarray, shots: int, seed: int | None
    ) -> list[dict[str, int]]:
        """Counts per row, keys in Qiskit order over the measured classical bits (or all qubits)."""

    def expval(self, circuit, observables, values, *, shots=None, seed=None, shared=None):
        check_optional_shots(shots)
        prog = self.program(circuit)
        if values.shape[0] == 0:
            return empty_expval(values, len(observables), real_dtype(values))
        grad = torch.is_grad_enabled() and values.requires_grad
        self.check_memory(prog, values.shape[0], n_obs=len(observables), grad=grad, shots=shots)
        angles = prog.angles(values)

        def evaluate(rows: np.ndarray, seed: int | None) -> np.ndarray:
            return self._expval_rows(prog, observables, rows, shots, seed)

        if torch.is_grad_enabled() and angles.requires_grad:
            return ParameterShift.apply(angles, evaluate, seed)
        out = evaluate(angles.detach().double().cpu().numpy(), seed)
        return torch.as_tensor(out, dtype=real_dtype(values), device=values.device)

    def statevector(self, circuit, values, *, shared=None):
        prog = self.program(circuit)
        if prog.mid_circuit:
            raise UnsupportedOperationError(
                "the circuit measures or resets a qubit mid-circuit, so its final state is mixed "
                "and has no state vector; use expval or sample"
            )
        dtype = torch.complex128 if real_dtype(values) == torch.float64 else torch.complex64
        if values.shape[0] == 0:
            return empty_statevector(values, prog.n_qubits, dtype)
        self.check_memory(prog, values.shape[0], states=True)
        with torch.no_grad():
            rows = prog.angles(values).double().cpu().numpy()
            states = self._statevector_rows(prog, rows) * np.exp(1j * prog.global_phase(values))[:, None]
        return torch.as_tensor(states, dtype=dtype, device=values.device)

    def sample(self, circuit, values, *, shots, seed, shared=None):
        prog = self.program(circuit, sampling=True)
        if values.shape[0] == 0:
            return []
        self.check_memory(prog, values.shape[0], shots=shots)
        with torch.no_grad():
            rows = prog.angles(values).double().cpu().numpy()
        return self._sample_rows(prog, rows, shots, seed)


def real_dtype(values: torch.Tensor) -> torch.dtype:
    return values.dtype if values.is_floating_point() else torch.float64


def counts_key_width(prog: GateProgram) -> int:
    return prog.circuit.num_clbits if prog.measured else prog.n_qubits


def measured_qubits(prog: GateProgram) -> Sequence[tuple[int, int]]:
    """``(qubit, clbit)`` of each final measurement of a program without mid-circuit operations."""
    c = prog.circuit
    return [
        (c.find_bit(inst.qubits[0]).index, c.find_bit(inst.clbits[0]).index)
        for inst in c.data
        if inst.operation.name == "measure"
    ]


def key_picker(prog: GateProgram) -> list[int]:
    """For each character of a Qiskit counts key (left to right), the qubit it reads, or -1 for '0'
    (for engines that report every qubit of a unitary body and leave classical bits to us)."""
    if not prog.measured:
        return list(range(prog.n_qubits - 1, -1, -1))
    source = [-1] * counts_key_width(prog)
    for qubit, clbit in measured_qubits(prog):  # a later measurement into a clbit overwrites it
        source[clbit] = qubit
    return source[::-1]
