"""Parameter names across an OpenQASM 3 round trip: :func:`~circuits.qasm.dumps` renames
``ParameterVector`` elements and odd names to plain identifiers and records the originals in a
``// ketml:parameters`` comment that :func:`~circuits.qasm.loads` reads back."""

from __future__ import annotations

import json
import re
import unicodedata

from qiskit import QuantumCircuit
from qiskit.circuit import Parameter, ParameterVector, ParameterVectorElement

from .source import IDENT

_PARAM_NOTE = re.compile(r"^[ \t]*//[ \t]*ketml:parameters[ \t]+(\{.*\})[ \t]*$", re.M)
INPUT_DECL = re.compile(r"^input\s+float\[64\]\s+([A-Za-z_][A-Za-z0-9_]*)\s*;", re.M)


def restore_parameters(text: str, circuit: QuantumCircuit) -> QuantumCircuit:
    """Give parameters back the names (and ParameterVectors) recorded by :func:`dumps`."""
    m = _PARAM_NOTE.search(text)
    if m is None or not circuit.parameters:
        return circuit
    try:
        note = json.loads(m.group(1))
    except ValueError:
        return circuit
    if not isinstance(note, dict):
        return circuit
    by_name = {p.name: p for p in circuit.parameters}
    vectors: dict[tuple[str, int], ParameterVector] = {}
    mapping: dict[Parameter, Parameter] = {}
    for exported, spec in note.items():
        param = by_name.get(exported)
        if param is None or not isinstance(spec, list):
            continue
        is_vector = len(spec) == 3 and isinstance(spec[0], str)
        if is_vector and all(isinstance(v, int) for v in spec[1:]):
            name, index, length = spec
            if not 0 <= index < length:
                continue
            if (name, length) not in vectors:
                vectors[name, length] = ParameterVector(name, length)
            mapping[param] = vectors[name, length][index]
        elif len(spec) == 1 and isinstance(spec[0], str):
            mapping[param] = Parameter(spec[0])
    kept = [p.name for p in by_name.values() if p not in mapping]
    names = [p.name for p in mapping.values()] + kept
    if mapping and len(set(names)) == len(names):
        circuit.assign_parameters(mapping, inplace=True, strict=False)
    return circuit


def _identifier(name: str) -> str:
    """A plain OpenQASM identifier resembling ``name`` (Greek letters spelled out: θ -> theta)."""
    out = []
    for ch in name:
        if ch.isascii():
            out.append(ch if ch.isalnum() or ch == "_" else "_")
        elif ch.isalpha():
            plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            word = unicodedata.name(ch, "").split()
            out.append(plain or (word[-1].lower() if word and word[-1].isascii() else "_"))
        else:
            out.append("_")
    ident = re.sub(r"_+", "_", "".join(out)).strip("_") or "param"
    return ident if re.match(r"[A-Za-z_]", ident) else "p_" + ident


def export_names(circuit: QuantumCircuit) -> dict[Parameter, Parameter]:
    """Readable plain-identifier stand-ins for vector elements and oddly named parameters."""
    taken = {
        p.name
        for p in circuit.parameters
        if IDENT.match(p.name) and not isinstance(p, ParameterVectorElement)
    }
    mapping: dict[Parameter, Parameter] = {}
    for p in circuit.parameters:
        if isinstance(p, ParameterVectorElement):
            base = f"{p.vector.name}_{p.index}"
        elif IDENT.match(p.name):
            continue
        else:
            base = p.name
        base = _identifier(base)
        name, n = base, 0
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        mapping[p] = Parameter(name)
    return mapping


def parameter_note(
    exported: QuantumCircuit,
    mapping: dict[Parameter, Parameter],
    text: str,
) -> dict[str, list]:
    """Exported input name -> original name (``[name]``) or ``[vector, index, length]``.

    The exporter declares inputs in ``circuit.parameters`` order, renaming any that clash with
    gate names or keywords, so declarations and parameters are matched by position.
    """
    back = {new: old for old, new in mapping.items()}
    declared = INPUT_DECL.findall(text)
    params = list(exported.parameters)
    if len(declared) == len(params):
        pairs = list(zip(params, declared, strict=True))
    else:  # pragma: no cover - exporter layout changed; fall back to exact names
        pairs = [(p, p.name) for p in params if p.name in set(declared)]
    note: dict[str, list] = {}
    for param, name in pairs:
        orig = back.get(param, param)
        if name == orig.name:
            continue
        if isinstance(orig, ParameterVectorElement):
            note[name] = [orig.vector.name, orig.index, len(orig.vector)]
        else:
            note[name] = [orig.name]
    return note
