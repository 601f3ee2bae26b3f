"""Writing OpenQASM 2 / 3: rewrite what Qiskit's exporters mis-handle, then export, keeping
parameter names (see :mod:`.names`) and a global phase."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from qiskit import QuantumCircuit, qasm2, qasm3
from qiskit.circuit import (
    Barrier,
    ControlFlowOp,
    Delay,
    Gate,
    Instruction,
    Measure,
    ParameterExpression,
    Reset,
)
from qiskit.circuit.library import GlobalPhaseGate, get_standard_gate_name_mapping

from ..errors import KetmlError
from .names import INPUT_DECL, export_names, parameter_note
from .source import error_message


class QasmExportError(KetmlError, ValueError):
    """The circuit holds something that cannot be written as OpenQASM of the requested version."""


_STANDARD = get_standard_gate_name_mapping()
_KEEP = (Measure, Reset, Barrier, Delay)
_PLAIN_NAMES = (frozenset(_STANDARD) - {"global_phase"}) | {"measure", "reset", "barrier", "delay"}


def _plain_params(params: Sequence[Any]) -> bool:
    """True when every parameter is a real number or a symbolic expression."""
    for p in params:
        if isinstance(p, bool) or not isinstance(
            p, (int, float, np.integer, np.floating, ParameterExpression)
        ):
            return False
    return True


def _is_standard(op: Any) -> bool:
    std = _STANDARD.get(op.name)
    return std is not None and type(op) is type(std)


def _synthesize(op: Any) -> QuantumCircuit:
    """A circuit of instructions for an abstract operation, via Qiskit's HighLevelSynthesis."""
    from qiskit.transpiler.passes import HighLevelSynthesis

    single = QuantumCircuit(op.num_qubits, op.num_clbits)
    single.append(op, single.qubits, single.clbits)
    try:
        circuit = HighLevelSynthesis()(single)
    except Exception as exc:
        raise QasmExportError(f"cannot write operation '{op.name}' as OpenQASM: {exc}") from exc
    return exportable(circuit)[0]


def exportable(circuit: QuantumCircuit) -> tuple[QuantumCircuit, bool]:
    """Rewrite what Qiskit's exporters mis-handle; returns (circuit, whether anything changed).

    Zero-qubit ``GlobalPhaseGate``s move into the global phase, composite non-gate instructions
    (e.g. ``QuantumVolume`` layers) are inlined, operations that are not instructions
    (``AnnotatedOperation``, ``Clifford``...) are synthesized, and gates whose parameters are not
    real numbers (``DiagonalGate``, ``PauliGate``, ``HamiltonianGate``...) become plain gates
    built from their definitions, recursively.
    """
    if all(name in _PLAIN_NAMES for name in circuit.count_ops()):
        return circuit, False  # fast path: nothing but standard gates and directives
    items: list[tuple[Any, Any, Any] | tuple[QuantumCircuit, Any, Any, None]] = []
    phase = circuit.global_phase
    changed = False
    for inst in circuit.data:
        op = inst.operation
        if isinstance(op, GlobalPhaseGate):
            phase += op.params[0]
            changed = True
        elif isinstance(op, ControlFlowOp):
            blocks = [exportable(b) for b in op.blocks]
            if any(ch for _, ch in blocks):
                op = op.replace_blocks([b for b, _ in blocks])
                changed = True
            items.append((op, inst.qubits, inst.clbits))
        elif not isinstance(op, Instruction):  # AnnotatedOperation, Clifford, ...
            items.append((_synthesize(op), inst.qubits, inst.clbits, None))
            changed = True
        elif isinstance(op, _KEEP) or _is_standard(op) or op.definition is None:
            items.append((op, inst.qubits, inst.clbits))
        else:
            definition, inner = exportable(op.definition)
            if isinstance(op, Gate) and _plain_params(op.params) and not inner:
                items.append((op, inst.qubits, inst.clbits))
            elif isinstance(op, Gate):
                gate = definition.to_gate()
                gate.name = op.name
                items.append((gate, inst.qubits, inst.clbits))
                changed = True
            else:
                items.append((definition, inst.qubits, inst.clbits, None))
                changed = True
    if not changed:
        return circuit, False
    out = circuit.copy_empty_like()
    out.global_phase = phase
    for item in items:
        if len(item) == 4:
            out.compose(item[0], qubits=item[1], clbits=item[2], inplace=True)
        else:
            out.append(item[0], item[1], item[2], copy=False)
    return out, True


_SAFE_EXPR = re.compile(r"[A-Za-z0-9_.+\-*/() ]+\Z")


def gphase_statement(phase: Any, text: str) -> str:
    """``gphase(...);`` for a nonzero global phase that OpenQASM 3 text can state, else ''."""
    if isinstance(phase, ParameterExpression):
        try:
            phase = float(phase)
        except (TypeError, ValueError):
            expr = str(phase)
            names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expr))
            declared = set(INPUT_DECL.findall(text))
            safe = _SAFE_EXPR.match(expr) and "**" not in expr  # the importer lacks '**'
            if not safe or not names <= declared | {"pi", "e"}:
                return ""
            return f"gphase({expr});\n"
    phase = float(phase)
    if phase == 0.0 or not np.isfinite(phase):
        return ""
    return f"gphase({phase!r});\n"


def to_qasm2(circuit: QuantumCircuit) -> str:
    """OpenQASM 2 text of a circuit without free parameters (the caller checks that)."""
    circuit, _ = exportable(circuit)
    try:
        return qasm2.dumps(circuit)
    except Exception as exc:  # the exporter's own error, or a crash on an odd instruction
        raise QasmExportError(f"cannot write this circuit as OpenQASM 2: {error_message(exc)}") from exc


def to_qasm3(circuit: QuantumCircuit) -> str:
    """OpenQASM 3 text; free parameters become ``input float[64]`` declarations whose original
    names (``ParameterVector`` elements included) are recorded in a ``// ketml:parameters`` note."""
    mapping = export_names(circuit)
    exported = circuit.assign_parameters(mapping, inplace=False) if mapping else circuit
    exported, _ = exportable(exported)
    try:
        text = qasm3.dumps(exported)
    except Exception as exc:  # the exporter's own error, or a crash on an odd instruction
        raise QasmExportError(f"cannot write this circuit as OpenQASM 3: {error_message(exc)}") from exc
    text += gphase_statement(exported.global_phase, text)
    note = parameter_note(exported, mapping, text) if exported.parameters else {}
    if note:
        header, _, rest = text.partition("\n")
        comment = "// ketml:parameters " + json.dumps(note, separators=(",", ":"))
        text = f"{header}\n{comment}\n{rest}"
    return text
