"""The torch engine: compiles a circuit once, then runs batches of parameter values fast."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import torch
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from ...errors import (
    ConfigurationError,
    EngineUnavailableError,
    MemoryLimitError,
    UnsupportedOperationError,
)
from .. import memory
from ..base import Engine, check_optional_shots, empty_expval, empty_statevector
from ..cache import CompileCache
from . import lightcone, small
from . import program as prog
from .adjoint import SINGLE_GATE_AMPLITUDES, AdjointRun, adjoint_expval
from .fused_expval import fused_expval
from .fusion import fusion_limits
from .measure import PauliPlan
from .plan import Plan
from .simulator import Simulation, probabilities, run_density, run_statevector

_DTYPES = {
    "complex64": torch.complex64,
    "single": torch.complex64,
    "float32": torch.complex64,
    "complex128": torch.complex128,
    "double": torch.complex128,
    "float64": torch.complex128,
}


@dataclass
class Compiled:
    """A circuit lowered for the torch engine; execution plans are built per call pattern."""

    n_qubits: int
    n_clbits: int
    index: dict[str, int]
    lowered: list[prog.Op]
    body: list[prog.Op]
    terminal: list[prog.Op]
    needs_density: bool
    records: bool = False  # classically conditioned ops: measurements must be recorded
    plans: dict = field(default_factory=dict)
    cones: dict = field(default_factory=dict)  # observables -> light-cone Reduction (or None)

    @cached_property
    def has_postselect(self) -> bool:
        return any(o.kind == "postselect" for o in self.lowered)

    def plan(self, mode: str, values: torch.Tensor, shared, fusion_qubits: int | None) -> Plan:
        """The plan for ``mode`` ("sv", "dm", "dm_record" or "dm_record_body": records kept,
        terminal measurements dropped) and this batch's sharing."""
        ops = self.lowered if mode == "dm_record" else self.body
        if values.shape[0] == 1:
            flags = tuple(False for _ in ops)
        else:
            varying = {j for j in range(values.shape[1]) if shared is None or not shared[j]}
            flags = tuple(bool(op.deps & varying) for op in ops)
        limits = fusion_limits(self.n_qubits, fusion_qubits)
        key = (mode, flags, limits)
        plan = self.plans.get(key)
        if plan is None:
            plan = Plan(ops, self.n_qubits, list(flags), limits, density=mode != "sv")
            if len(self.plans) > 16:
                self.plans.pop(next(iter(self.plans)))
            self.plans[key] = plan
        return plan


def _build(circuit: QuantumCircuit) -> Compiled:
    index = {p.name: i for i, p in enumerate(circuit.parameters)}
    lowered = prog.lower(circuit, index)
    body, terminal, needs_density = prog.split_terminal_measurements(lowered, circuit.num_qubits)
    records = prog.uses_records(lowered, circuit.num_qubits)
    return Compiled(
        circuit.num_qubits,
        circuit.num_clbits,
        index,
        lowered,
        body,
        terminal,
        needs_density or records,
        records,
    )


def _same_objects(a: list, b: list) -> bool:
    """Whether two lists hold the very same objects (observables are not mutated in place)."""
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


#: state copies a forward pass holds at its peak (input, output, fused-gate and measurement buffers)
FORWARD_COPIES = 5

compile_circuit = CompileCache(_build)
compile_circuit.__doc__ = "Compile (or fetch from the cache) the torch program for a circuit."


class TorchEngine(Engine):
    """Batched state-vector / density-matrix simulator in torch (CPU or CUDA).

    Options: ``device`` ("cpu", "cuda", ...), ``dtype`` ("complex64" default or
    "complex128"), ``diff_method`` ("backprop" or "adjoint"), ``max_memory``
    (bytes the simulation may use; default: what the device has free),
    ``fusion_qubits`` (largest fused gate block; default 4).
    """

    name = "torch"
    gpu_options = ({"device": "cuda"},)

    def __init__(
        self,
        device: str | torch.device = "cpu",
        dtype: str | torch.dtype = "complex64",
        diff_method: str = "backprop",
        max_memory: int | None = None,
        fusion_qubits: int | None = None,
    ):
        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise EngineUnavailableError(
                "device='cuda' was asked for but torch sees no CUDA GPU here "
                "(install a CUDA build of torch on a machine with an NVIDIA GPU, or use device='cpu')"
            )
        if isinstance(dtype, str):
            if dtype not in _DTYPES:
                raise ConfigurationError(f"unknown dtype {dtype!r}; use 'complex64' or 'complex128'")
            dtype = _DTYPES[dtype]
        if dtype not in (torch.complex64, torch.complex128):
            raise ConfigurationError(f"dtype must be complex64 or complex128, got {dtype}")
        if diff_method not in ("backprop", "adjoint"):
            raise ConfigurationError(f"diff_method must be 'backprop' or 'adjoint', got {diff_method!r}")
        self.dtype = dtype
        self.real_dtype = torch.float32 if dtype == torch.complex64 else torch.float64
        self.diff_method = diff_method
        self.max_memory = max_memory
        self.fusion_qubits = fusion_qubits
        self._plans: OrderedDict[tuple, PauliPlan] = OrderedDict()
        self._last_plan: tuple | None = None

    # -- helpers --------------------------------------------------------------------------------
    def _values(self, values: torch.Tensor) -> torch.Tensor:
        return values.to(device=self.device, dtype=self.real_dtype)

    def _check_memory(self, n: int, batch: int, density: bool, ops: int, grad: bool) -> None:
        if n > 62 or (density and 2 * n > 62):
            raise MemoryLimitError(f"{n} qubits cannot be simulated as a state vector")
        itemsize = torch.empty((), dtype=self.dtype).element_size()
        state = float(batch) * memory.amplitudes(n, density) * itemsize
        backprop = grad and self.diff_method == "backprop"
        # measured peaks: a forward pass holds ~4.7 states; backprop keeps ~1.4 per fused step
        copies = FORWARD_COPIES + (1.5 * ops if backprop else 0)
        if state * copies < memory.SMALL and self.max_memory is None:
            return  # not worth asking the OS
        kind = "density matrix" if density else "state vector"
        hint = (
            "try diff_method='adjoint', which keeps only a few state vectors"
            if backprop and state * FORWARD_COPIES <= (self.max_memory or memory.available_bytes(self.device))
            else "use a smaller batch, fewer qubits, or a GPU / distributed engine"
        )
        what = (
            f"simulating {n} qubits (batch {batch}, {self.dtype}"
            f"{', backprop gradients' if backprop else ''}) at {memory.gib(state)} per {kind}, "
            f"{copies:.0f} copies,"
        )
        memory.check(state * copies, what, hint + ".", limit=self.max_memory, device=self.device)

    def _plan(self, observables: list[SparsePauliOp], n: int) -> PauliPlan:
        last = self._last_plan
        if last is not None and last[1] == n and _same_objects(last[0], observables):
            return last[2]
        key = (n,) + tuple((tuple(o.paulis.to_labels()), o.coeffs.tobytes()) for o in observables)
        plan = self._plans.get(key)
        if plan is None:
            plan = PauliPlan(observables, n)
            self._plans[key] = plan
            if len(self._plans) > 64:
                self._plans.popitem(last=False)
        self._last_plan = (list(observables), n, plan)
        return plan

    # -- primitives -----------------------------------------------------------------------------
    def simulate(
        self, circuit: QuantumCircuit, values: torch.Tensor, *, shared=None, record: bool = False
    ) -> Simulation:
        """Run ``circuit``; the result holds the final state (or density matrix) and the
        postselection success probability. ``values`` is ``(B, P)`` in parameter order."""
        compiled = compile_circuit(circuit)
        return self._simulate(compiled, self._values(values), shared, record=record)

    def _simulate(
        self,
        compiled: Compiled,
        values: torch.Tensor,
        shared,
        record: bool = False,
        terminal: bool = True,
        real_ok: bool = False,
    ):
        n = compiled.n_qubits
        batch = values.shape[0]
        grad = torch.is_grad_enabled() and values.requires_grad
        record = record or compiled.records
        if compiled.needs_density or record:
            extra = compiled.n_clbits if record else 0
            self._check_memory(n + extra, batch, True, len(compiled.lowered), grad)
            mode = ("dm_record" if terminal else "dm_record_body") if record else "dm"
            plan = compiled.plan(mode, values, shared, self.fusion_qubits)
            self._check_memory(n + extra, batch, True, len(plan.steps), grad)
            mats, _ = plan.bind(values, self.dtype, self.device)
            return run_density(plan.steps, mats, n, batch, self.dtype, self.device, record_clbits=extra)
        if self.fusion_qubits is None and small.applies(compiled.body, n):
            program = small.program_for(compiled, values, shared)
            self._check_memory(n, batch, False, program.passes, grad)
            return program.run(values, batch, self.dtype, self.device, real_ok=real_ok)
        plan = compiled.plan("sv", values, shared, self.fusion_qubits)
        self._check_memory(n, batch, False, len(plan.steps), grad)
        mats, phase = plan.bind(values, self.dtype, self.device)
        return run_statevector(plan.steps, mats, phase, n, batch, self.dtype, self.device, prefix=plan.prefix)

    def expval(self, circuit, observables, values, *, shots=None, seed=None, shared=None):
        compiled = compile_circuit(circuit)
        values = self._values(values)
        n = compiled.n_qubits
        if values.shape[0] == 0:
            check_optional_shots(shots)
            return empty_expval(values, len(observables), self.real_dtype)
        if shots is not None:
            return self._shot_expval(compiled, observables, values, shots, seed, shared)
        if compiled.records:  # expectation values on the system qubits, records traced out
            pad = SparsePauliOp("I" * compiled.n_clbits)
            observables = [pad.tensor(o) for o in observables]
            n += compiled.n_clbits
        plan = self._plan(observables, n)
        if not compiled.needs_density and not compiled.has_postselect:
            reduction = self._reduction(compiled, observables)
            if reduction is not None:
                return self._reduced_expval(reduction, values, shared)
        return self._exact_expval(compiled, plan, values, shared, n)

    def _reduction(self, compiled: Compiled, observables: list[SparsePauliOp]):
        """The light-cone reduction of these observables on this circuit, built once."""
        last = compiled.cones.get("last")
        if last is not None and _same_objects(last[0], observables):
            return last[1]
        key = tuple((tuple(o.paulis.to_labels()), o.coeffs.tobytes()) for o in observables)
        if key not in compiled.cones:
            red = lightcone.reduce(compiled.body, compiled.n_qubits, observables)
            for part in red.parts if red is not None else ():
                part.compiled = Compiled(len(part.qubits), 0, compiled.index, part.ops, part.ops, [], False)
                part.plan = PauliPlan(part.observables, len(part.qubits))
            if len(compiled.cones) > 64:
                compiled.cones.clear()
            compiled.cones[key] = red
        compiled.cones["last"] = (list(observables), compiled.cones[key])
        return compiled.cones[key]

    def _reduced_expval(self, reduction, values: torch.Tensor, shared) -> torch.Tensor:
        """Expectation values as the sum of the light-cone parts' (each simulated on its qubits)."""
        const = torch.as_tensor(reduction.constant, dtype=self.real_dtype, device=self.device)
        out = const.unsqueeze(0).expand(values.shape[0], -1)
        for part in reduction.parts:
            k = len(part.qubits)
            out = out + self._exact_expval(part.compiled, part.plan, values, shared, k)
        return out

    def _exact_expval(self, compiled: Compiled, plan: PauliPlan, values, shared, n: int) -> torch.Tensor:
        """Exact expectation values by backprop through the simulation, or by the adjoint method."""
        if self.diff_method == "adjoint" and torch.is_grad_enabled() and values.requires_grad:
            if compiled.needs_density or compiled.has_postselect:
                raise UnsupportedOperationError(
                    "diff_method='adjoint' needs a unitary circuit; this one measures, resets or "
                    "postselects mid-circuit: use diff_method='backprop'"
                )
            fusion = self.fusion_qubits
            if fusion is None and values.shape[0] << n <= SINGLE_GATE_AMPLITUDES:
                fusion = 1  # tiny states: binding fused blocks costs more than the passes they save
            xplan = compiled.plan("sv", values, shared, fusion)
            self._check_memory(n, values.shape[0], False, len(xplan.steps), False)
            mats, _ = xplan.bind(values, self.dtype, self.device)
            return adjoint_expval(
                AdjointRun(
                    xplan.steps, mats, n, values.shape[0], plan, self.dtype, self.device, prefix=xplan.prefix
                )
            )
        if (
            self.fusion_qubits is None
            and not compiled.needs_density
            and not compiled.records
            and small.applies(compiled.body, n)
        ):
            program = small.program_for(compiled, values, shared)
            fused = fused_expval(program, plan, values.shape[1])
            if fused is not None:  # encoding, shared tail and Z-type observables: one node
                self._check_memory(n, values.shape[0], False, 2, False)
                return fused(values, self.dtype)
        sim = self._simulate(compiled, values, shared, terminal=False, real_ok=True)
        return plan.evaluate(sim.state, density=sim.density)

    def _shot_expval(self, compiled, observables, values, shots, seed, shared):
        """Estimate each Pauli term from ``shots`` samples of its +-1 outcome."""
        if not isinstance(shots, int) or isinstance(shots, bool) or shots < 1:
            raise ConfigurationError(f"shots must be a positive integer, got {shots!r}")
        n = compiled.n_qubits
        if compiled.records:
            pad = SparsePauliOp("I" * compiled.n_clbits)
            observables = [pad.tensor(o) for o in observables]
            n += compiled.n_clbits
        terms = [SparsePauliOp(p) for o in observables for p in o.paulis]
        coeffs = [c for o in observables for c in o.coeffs.real]
        owner = [k for k, o in enumerate(observables) for _ in range(len(o))]
        with torch.no_grad():
            sim = self._simulate(compiled, values, shared, terminal=False)
            exact = self._plan(terms, n).evaluate(sim.state, density=sim.density)
        gen = torch.Generator(device="cpu")
        if seed is not None:
            gen.manual_seed(int(seed))
        p_plus = ((1 + exact.double().cpu()) / 2).clamp(0, 1)
        hits = torch.binomial(torch.full_like(p_plus, float(shots)), p_plus, generator=gen)
        est = 2 * hits / shots - 1
        is_identity = torch.tensor([not (t.paulis.x.any() or t.paulis.z.any()) for t in terms])
        est[:, is_identity] = 1.0
        out = torch.zeros(values.shape[0], len(observables), dtype=torch.float64)
        for j, (k, c) in enumerate(zip(owner, coeffs, strict=True)):
            out[:, k] += c * est[:, j]
        return out.to(device=self.device, dtype=self.real_dtype)

    def statevector(self, circuit, values, *, shared=None):
        compiled = compile_circuit(circuit)
        if compiled.needs_density:
            raise UnsupportedOperationError(
                "the circuit measures or resets a qubit mid-circuit, so its final state is mixed "
                "and has no state vector; use expval or sample (density-matrix mode)"
            )
        if values.shape[0] == 0:
            return empty_statevector(values.to(self.device), compiled.n_qubits, self.dtype)
        return self._simulate(compiled, self._values(values), shared).state

    def sample(self, circuit, values, *, shots, seed, shared=None):
        compiled = compile_circuit(circuit)
        values = self._values(values)
        n = compiled.n_qubits
        if values.shape[0] == 0:
            return []
        memory.check_shots(shots, values.shape[0], 0, self.name, limit=self.max_memory)
        with torch.no_grad():
            record = compiled.needs_density and any(o.kind == "measure" for o in compiled.lowered)
            sim = self._simulate(compiled, values, shared, record=record)
            probs = probabilities(sim).double().cpu()
        gen = torch.Generator(device="cpu")
        if seed is not None:
            gen.manual_seed(int(seed))
        cdf = probs.cumsum(dim=1)
        u = torch.rand(probs.shape[0], shots, generator=gen, dtype=torch.float64)
        draws = torch.searchsorted(cdf, u * cdf[:, -1:]).clamp_max(probs.shape[1] - 1).numpy()
        if record:
            sources = [(n + c, c) for c in range(compiled.n_clbits)]
            width = compiled.n_clbits
        elif compiled.terminal:
            sources = [(m.qubits[0], m.clbit) for m in compiled.terminal]
            width = compiled.n_clbits
        else:
            sources = None
            width = n
        results = []
        for row in draws:
            if sources is not None:
                keys = np.zeros_like(row)
                for src, dst in sources:
                    keys &= ~np.int64(1 << dst)
                    keys |= ((row >> src) & 1) << dst
            else:
                keys = row
            uniq, counts = np.unique(keys, return_counts=True)
            results.append({format(int(k), f"0{width}b"): int(c) for k, c in zip(uniq, counts, strict=True)})
        return results
