"""Classical loops made finite before a simulator runs them.

``for`` loops have a fixed iteration count, so they are unrolled (every engine then runs them).
``while`` loops run until a measured condition fails, which may be never: Aer would spin forever
and ignore Ctrl-C. :func:`bound_while_loops` replaces each one by ``max_iterations`` copies of
``if (condition) { body }`` (once the condition fails no copy runs, as in the loop) and flips a
flag qubit when the condition still holds after the last copy; the engine reads the flag bit
(:func:`cap_bit`) back from the counts, so hitting the cap is an error, never a silently
truncated loop.
"""

from __future__ import annotations

from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import ControlFlowOp, ForLoopOp, IfElseOp, ParameterExpression, WhileLoopOp

from ..errors import ConfigurationError, LoopLimitError, UnsupportedOperationError

#: instructions a ``for`` loop may unroll to (its iterations times its body's size)
MAX_UNROLLED = 1_000_000
#: default cap on the iterations of one ``while`` loop (per shot)
MAX_LOOP_ITERATIONS = 1000
#: the register holding the flag qubit and bit that :func:`bound_while_loops` adds
CAP_REGISTER = "loop_cap"


def _contains(circuit: QuantumCircuit, names: tuple[str, ...]) -> bool:
    for inst in circuit.data:
        op = inst.operation
        if op.name in names:
            return True
        if isinstance(op, ControlFlowOp) and any(_contains(b, names) for b in op.blocks):
            return True
    return False


def _size(circuit: QuantumCircuit) -> int:
    n = 0
    for inst in circuit.data:
        op = inst.operation
        n += 1 + (sum(_size(b) for b in op.blocks) if isinstance(op, ControlFlowOp) else 0)
    return n


def _uses(circuit: QuantumCircuit, parameter) -> bool:
    """Whether a gate of ``circuit`` (at any depth) has ``parameter`` in an argument (a body's
    parameter table may list a loop variable that nothing uses)."""
    for inst in circuit.data:
        op = inst.operation
        if isinstance(op, ControlFlowOp):
            if any(_uses(b, parameter) for b in op.blocks):
                return True
        elif any(isinstance(a, ParameterExpression) and parameter in a.parameters for a in op.params):
            return True
    return False


def loop_bodies(op: ForLoopOp) -> list[QuantumCircuit]:
    """The body of a ``for`` loop once per iteration, its loop variable bound to the index."""
    indexset, loop_parameter, body = op.params
    if _contains(body, ("break_loop", "continue_loop")):
        raise UnsupportedOperationError(
            "a for loop with break or continue is not supported (loops are unrolled); write the "
            "early exit as an if/else on a measured bit in the loop body, e.g. "
            "`for int i in [0:3] { if (c == false) { h q; c = measure q; } }` (engine='aer' runs it)"
        )
    count = len(indexset)
    if count * max(1, _size(body)) > MAX_UNROLLED:
        raise UnsupportedOperationError(
            f"a for loop of {count:,} iterations over {_size(body)} instruction(s) would unroll to "
            f"more than {MAX_UNROLLED:,} instructions; shorten the loop"
        )
    uses = loop_parameter is not None and _uses(body, loop_parameter)
    return [
        body.assign_parameters({loop_parameter: i}, inplace=False, strict=False) if uses else body
        for i in indexset
    ]


def has_for_loops(circuit: QuantumCircuit) -> bool:
    """Whether ``circuit`` holds a ``for`` loop at any depth."""
    return _contains(circuit, ("for_loop",))


def unroll_for_loops(circuit: QuantumCircuit) -> QuantumCircuit:
    """``circuit`` with every ``for`` loop (at any depth) replaced by its iterations in order;
    the circuit itself when it has none."""
    if not has_for_loops(circuit):
        return circuit
    out = circuit.copy_empty_like()
    for inst in circuit.data:
        op = inst.operation
        if isinstance(op, ForLoopOp):
            for body in loop_bodies(op):
                out.compose(unroll_for_loops(body), inst.qubits, inst.clbits, inplace=True, copy=False)
        elif isinstance(op, ControlFlowOp):
            out.append(op.replace_blocks([unroll_for_loops(b) for b in op.blocks]), inst.qubits, inst.clbits)
        else:
            out.append(inst)
    return out


def has_while_loops(circuit: QuantumCircuit) -> bool:
    """Whether ``circuit`` holds a ``while`` loop at any depth."""
    return _contains(circuit, ("while_loop",))


def bound_while_loops(circuit: QuantumCircuit, max_iterations: int) -> QuantumCircuit:
    """``circuit`` with each top-level ``while`` loop run at most ``max_iterations`` times, plus a
    flag qubit and bit (register :data:`CAP_REGISTER`, added last) set where a loop would have
    gone on; the circuit itself when it has no ``while`` loop."""
    if not has_while_loops(circuit):
        return circuit
    if isinstance(max_iterations, bool) or not isinstance(max_iterations, int) or max_iterations < 1:
        raise ConfigurationError(f"max_loop_iterations must be a positive integer, got {max_iterations!r}")
    flag_q, flag_c = QuantumRegister(1, CAP_REGISTER), ClassicalRegister(1, CAP_REGISTER)
    out = circuit.copy_empty_like()
    out.add_register(flag_q)
    out.add_register(flag_c)
    for inst in circuit.data:
        op = inst.operation
        if isinstance(op, WhileLoopOp):
            (body,) = op.blocks
            if _contains(body, ("while_loop", "break_loop", "continue_loop")):
                raise UnsupportedOperationError(
                    "a while loop holding another while loop, break or continue is not supported; "
                    "write the inner loop's exit as the outer loop's condition"
                )
            for _ in range(max_iterations):
                out.append(IfElseOp(op.condition, body), inst.qubits, inst.clbits)
            with out.if_test(op.condition):
                out.x(flag_q[0])
        elif isinstance(op, ControlFlowOp) and any(has_while_loops(b) for b in op.blocks):
            raise UnsupportedOperationError(
                "a while loop inside another control-flow block is not supported; move it to the top level"
            )
        else:
            out.append(inst)
    out.measure(flag_q[0], flag_c[0])
    return out


def cap_bit(circuit: QuantumCircuit) -> int | None:
    """Index of the flag bit of :func:`bound_while_loops` among the circuit's classical bits
    (None when it has none): an outcome with this bit set ran into the cap."""
    for reg in circuit.cregs:
        if reg.name == CAP_REGISTER:
            return circuit.find_bit(reg[0]).index
    return None


def cap_error(max_iterations: int) -> LoopLimitError:
    """The error for a ``while`` loop that ran into the cap."""
    return LoopLimitError(
        f"a while loop was still running after max_loop_iterations={max_iterations:,} iterations in "
        "some shots; its condition may never become false. Fix the loop, or raise the cap with the "
        "aer engine's max_loop_iterations= option"
    )
