"""circuits.qasm: OpenQASM 2/3 round trips, the QASMBench corpus, and positioned errors."""

from __future__ import annotations

import csv
import zlib
from pathlib import Path

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, qasm2, qasm3
from qiskit.circuit import ControlFlowOp, Parameter, ParameterVector, ParameterVectorElement
from qiskit.circuit import library as lib
from qiskit.quantum_info import (
    Operator,
    SparsePauliOp,
    random_clifford,
    random_statevector,
    random_unitary,
)
from qiskit.synthesis import synth_qft_full

from circuits import qasm
from circuits.errors import QasmError

from .helpers import qasmbench_root

# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------


CORPUS = qasmbench_root()


def _manifest(root: Path | None) -> list[dict[str, str]]:
    if root is None:
        return []
    lines = (root / "MANIFEST.tsv").read_text().splitlines()
    return list(csv.DictReader(lines, delimiter="\t"))


MANIFEST = _manifest(CORPUS)

# Upstream QASMBench bugs, not parser limits: these files declare `qreg reg[n]` (and no creg)
# but end with `measure q[i] -> c[i];`, so no OpenQASM parser can accept them. They must fail
# with a QasmError at the undeclared `q` (line, column), which is what we assert.
BROKEN = {
    "small/vqe_uccsd_n4/vqe_uccsd_n4.qasm": (225, 9),
    "small/vqe_uccsd_n4/vqe_uccsd_n4_transpiled.qasm": (242, 9),
    "small/vqe_uccsd_n6/vqe_uccsd_n6.qasm": (2286, 9),
    "small/vqe_uccsd_n6/vqe_uccsd_n6_transpiled.qasm": (2128, 9),
    "small/vqe_uccsd_n8/vqe_uccsd_n8.qasm": (10813, 9),
    "small/vqe_uccsd_n8/vqe_uccsd_n8_transpiled.qasm": (9680, 9),
}
V3_MAX_OPS = 1500  # the OpenQASM 3 reference parser (ANTLR, pure Python) is slow on big files
STATE_MAX_QUBITS = 12
OPERATOR_MAX_QUBITS = 5
NON_UNITARY = {"measure", "reset", "if_else", "while_loop", "for_loop", "switch_case"}


def _qasm2_plain(text: str) -> QuantumCircuit:
    """The other OpenQASM 2 route: gates of the original qelib1.inc from their definitions.

    ``circuits.qasm`` maps qelib1 gates (u1, u2, u3, cu1, crz, ...) onto Qiskit's standard
    gates; here they are built from the include file's own ``gate`` bodies instead, so the
    comparison checks that mapping. Gates missing from the original qelib1.inc (sx, rxx, ...)
    still need Qiskit's definitions.
    """
    extra = [c for c in qasm2.LEGACY_CUSTOM_INSTRUCTIONS if c.builtin]
    return qasm2.loads(text, custom_instructions=extra, strict=False)


def _unitary_part(circuit: QuantumCircuit) -> QuantumCircuit | None:
    c = circuit.remove_final_measurements(inplace=False)
    return None if set(c.count_ops()) & NON_UNITARY else c


def _assert_same_state(a: QuantumCircuit, b: QuantumCircuit, seed: int = 7) -> None:
    """Same operator (small) or same action on a random state (up to 12 qubits), up to phase."""
    assert a.num_qubits == b.num_qubits
    if a.num_qubits <= OPERATOR_MAX_QUBITS:
        assert Operator(a).equiv(Operator(b)), "operators differ"
        return
    psi = random_statevector(2**a.num_qubits, seed=seed)
    va, vb = psi.evolve(a).data, psi.evolve(b).data
    assert abs(abs(np.vdot(va, vb)) - 1.0) < 1e-8, "states differ"


def _same_gate(x, y, cache: dict) -> bool:
    """Equal operators up to phase; ``cache`` is per program (gate names are per file)."""
    key = (x.name, tuple(map(str, x.params)), y.name, tuple(map(str, y.params)), x.num_qubits)
    if key not in cache:
        if x.num_qubits <= 6:
            cache[key] = Operator(x).equiv(Operator(y))
        else:
            _assert_same_program(x.definition, y.definition, cache=cache)
            cache[key] = True
    return cache[key]


def _bits(circuit: QuantumCircuit, bits) -> list[int]:
    return [circuit.find_bit(b).index for b in bits]


def _index(circuit: QuantumCircuit) -> dict:
    index = {b: i for i, b in enumerate(circuit.qubits)}
    index.update({b: i for i, b in enumerate(circuit.clbits)})
    return index


def _condition(circuit: QuantumCircuit, op) -> tuple:
    target, value = op.condition
    bits = list(target) if isinstance(target, ClassicalRegister) else [target]
    return tuple(_bits(circuit, bits)), value


def _assert_same_program(
    a: QuantumCircuit, b: QuantumCircuit, where: str = "", cache: dict | None = None
) -> None:
    """Instruction by instruction: same bits, same gates (as operators), same control flow."""
    cache = {} if cache is None else cache
    assert (a.num_qubits, a.num_clbits) == (b.num_qubits, b.num_clbits), where
    da = [i for i in a.data if i.operation.name != "barrier"]
    db = [i for i in b.data if i.operation.name != "barrier"]
    assert len(da) == len(db), f"{where}: {len(da)} vs {len(db)} instructions"
    ia, ib = _index(a), _index(b)
    for k, (x, y) in enumerate(zip(da, db, strict=True)):
        ox, oy = x.operation, y.operation
        at = f"{where}#{k} {ox.name}/{oy.name}"
        assert [ia[q] for q in x.qubits] == [ib[q] for q in y.qubits], at
        assert [ia[c] for c in x.clbits] == [ib[c] for c in y.clbits], at
        if isinstance(ox, ControlFlowOp):
            assert type(ox) is type(oy), at
            if getattr(ox, "condition", None) is not None:
                assert _condition(a, ox) == _condition(b, oy), at
            for bx, by in zip(ox.blocks, oy.blocks, strict=True):
                _assert_same_program(bx, by, at, cache)
        elif ox.name in ("measure", "reset") or oy.name in ("measure", "reset"):
            assert ox.name == oy.name, at
        else:
            assert _same_gate(ox, oy, cache), at


def _roundtrip(circuit: QuantumCircuit, version: int) -> QuantumCircuit:
    return qasm.loads(qasm.dumps(circuit, version))


# ------------------------------------------------------------------------------------------
# the QASMBench corpus
# ------------------------------------------------------------------------------------------


def test_corpus_manifest_matches_files():
    if CORPUS is None:
        pytest.skip("QASMBench corpus not found (set KETML_DATA or add ../shared/data/qasmbench)")
    on_disk = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*.qasm")}
    listed = {row["path"] for row in MANIFEST}
    assert on_disk == listed and len(listed) == 125
    failing = {row["path"] for row in MANIFEST if row["qiskit_qasm2_parse"] != "ok"}
    assert failing == set(BROKEN)


@pytest.mark.parametrize("rel", [row["path"] for row in MANIFEST] or ["<no corpus>"])
def test_corpus_file(rel: str):
    if CORPUS is None:
        pytest.skip("QASMBench corpus not found (set KETML_DATA or add ../shared/data/qasmbench)")
    row = next(r for r in MANIFEST if r["path"] == rel)
    path = CORPUS / rel
    if rel in BROKEN:
        with pytest.raises(QasmError, match="'q' is not defined") as info:
            qasm.load(path)
        assert (info.value.line, info.value.column) == BROKEN[rel]
        return

    circuit = qasm.load(path)
    shape = (circuit.num_qubits, circuit.num_clbits, circuit.size(), circuit.depth())
    assert shape == tuple(int(row[k]) for k in ("num_qubits", "num_clbits", "num_ops", "depth"))

    other = _qasm2_plain(path.read_text())
    _assert_same_program(circuit, other, "qelib1 route")
    via2 = _roundtrip(circuit, 2)
    _assert_same_program(circuit, via2, "v2 round trip")
    via3 = _roundtrip(circuit, 3) if circuit.size() <= V3_MAX_OPS else None
    if via3 is not None:
        _assert_same_program(circuit, via3, "v3 round trip")

    unitary = _unitary_part(circuit) if circuit.num_qubits <= STATE_MAX_QUBITS else None
    if unitary is not None:
        for name, c in (("qelib1 route", other), ("v2", via2), ("v3", via3)):
            if c is not None:
                u = _unitary_part(c)
                assert u is not None, name
                _assert_same_state(unitary, u)


def test_corpus_header_less_file_reads_as_qasm2():
    if CORPUS is None:
        pytest.skip("QASMBench corpus not found (set KETML_DATA or add ../shared/data/qasmbench)")
    text = (CORPUS / "medium/sat_n11/sat_n11.qasm").read_text()
    assert "OPENQASM" not in text
    assert qasm.detect_version(text) == 2
    assert qasm.loads(text).num_qubits == 11


# ------------------------------------------------------------------------------------------
# round trips of standard gates and library circuits
# ------------------------------------------------------------------------------------------

_SKIP_STANDARD = {"measure", "reset", "delay", "barrier", "global_phase"}
STANDARD = sorted(set(lib.get_standard_gate_name_mapping()) - _SKIP_STANDARD)


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("name", STANDARD)
def test_standard_gate_roundtrip(name: str, version: int):
    gate = lib.get_standard_gate_name_mapping()[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    if gate.params:
        gate = type(gate)(*rng.uniform(-3, 3, len(gate.params)))
    circuit = QuantumCircuit(gate.num_qubits + 1)
    circuit.h(range(circuit.num_qubits))
    circuit.append(gate, list(range(1, gate.num_qubits + 1)))
    assert Operator(circuit).equiv(Operator(_roundtrip(circuit, version)))


def _library_circuits() -> dict[str, QuantumCircuit]:
    rng = np.random.default_rng(11)
    out: dict[str, QuantumCircuit] = {}

    def on(n: int, op, qubits) -> QuantumCircuit:
        c = QuantumCircuit(n)
        c.append(op, qubits)
        return c

    out["qft_circuit"] = synth_qft_full(4)
    out["qft_gate"] = on(4, lib.QFTGate(4), [3, 1, 0, 2])
    out["qft_gate_inverse"] = on(3, lib.QFTGate(3).inverse(), [0, 1, 2])
    out["controlled_qft"] = on(4, lib.QFTGate(3).control(1, annotated=False), [0, 1, 2, 3])
    out["mcx"] = QuantumCircuit(5)
    out["mcx"].mcx([0, 1, 2, 3], 4)
    out["ctrl_state"] = on(3, lib.RXGate(0.3).control(2, ctrl_state=1, annotated=False), [2, 0, 1])
    out["open_ch"] = on(2, lib.HGate().control(1, ctrl_state=0, annotated=False), [0, 1])
    out["unitary"] = on(3, lib.UnitaryGate(random_unitary(4, seed=3)), [0, 2])
    weights = rng.uniform(-3, 3, 12)
    out["real_amplitudes"] = lib.real_amplitudes(4, reps=2).assign_parameters(weights)
    out["efficient_su2"] = lib.efficient_su2(3, reps=1).assign_parameters(rng.uniform(-3, 3, 12))
    out["zz_feature_map"] = lib.zz_feature_map(3).assign_parameters(rng.uniform(-3, 3, 3))
    commuting = SparsePauliOp(["XXI", "ZZI", "YYI", "IIZ"], [0.3, 0.5, -0.2, 0.4])
    out["pauli_evolution"] = on(3, lib.PauliEvolutionGate(commuting, time=0.7), [0, 1, 2])
    oracle = QuantumCircuit(2)
    oracle.cz(0, 1)
    out["grover"] = lib.grover_operator(oracle)
    out["quantum_volume"] = lib.quantum_volume(4, seed=5)
    out["iqp"] = lib.iqp([[1, 2, 3], [2, 4, 1], [3, 1, 2]])
    out["permutation"] = on(4, lib.PermutationGate([2, 0, 3, 1]), [0, 1, 2, 3])
    block = QuantumCircuit(2, name="block")
    block.ry(0.4, 0)
    block.cx(0, 1)
    out["non_gate_instruction"] = on(3, block.to_instruction(), [2, 0])
    phases = np.exp(1j * rng.uniform(0, 6, 4))
    out["diagonal"] = on(2, lib.DiagonalGate(list(phases)), [0, 1])
    out["clifford"] = random_clifford(3, seed=2).to_circuit()
    out["pauli_gate"] = on(3, lib.PauliGate("XYZ"), [0, 1, 2])
    out["hamiltonian"] = on(2, lib.HamiltonianGate(np.diag([1.0, 2.0, 3.0, 4.0]), 0.3), [0, 1])
    out["power_inverse"] = QuantumCircuit(2)
    out["power_inverse"].append(lib.RZZGate(0.3).power(1.5), [0, 1])
    out["power_inverse"].append(lib.SXGate().inverse(), [1])
    sub = QuantumCircuit(2, name="my gate!", global_phase=0.3)
    sub.rx(0.2, 0)
    sub.cx(0, 1)
    out["custom_gate"] = QuantumCircuit(3)
    out["custom_gate"].append(sub.to_gate(), [2, 0])
    out["custom_gate"].append(sub.to_gate().control(1, annotated=False), [1, 2, 0])
    keyword = QuantumCircuit(1, name="if")
    keyword.h(0)
    out["keyword_named_gate"] = on(1, keyword.to_gate(), [0])
    qr, odd = QuantumRegister(2, "qubit"), QuantumRegister(1, "my-reg")
    out["register_names"] = QuantumCircuit(qr, odd)
    out["register_names"].cx(qr[0], odd[0])
    out["register_names"].h(qr[1])
    out["mcmt"] = lib.MCMTGate(lib.YGate(), 2, 2).definition
    out["ucry"] = on(3, lib.UCRYGate(list(rng.uniform(0, 3, 4))), [0, 1, 2])
    amp = rng.normal(size=4) + 1j * rng.normal(size=4)
    out["state_preparation"] = on(2, lib.StatePreparation(amp / np.linalg.norm(amp)), [0, 1])
    out["annotated"] = QuantumCircuit(3)
    out["annotated"].append(sub.to_gate().control(1, annotated=True), [0, 1, 2])
    out["annotated"].append(lib.SXGate().inverse(annotated=True), [1])
    out["annotated"].append(lib.RZZGate(0.3).power(1.5, annotated=True), [0, 2])
    out["clifford_object"] = on(3, random_clifford(2, seed=1), [0, 2])
    out["global_phase_gate"] = QuantumCircuit(2)
    out["global_phase_gate"].append(lib.GlobalPhaseGate(0.4), [])
    out["global_phase_gate"].h(0)
    return out


LIBRARY = _library_circuits()


@pytest.mark.filterwarnings("ignore::scipy.sparse.SparseEfficiencyWarning")
@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_library_circuit_roundtrip(name: str, version: int):
    circuit = LIBRARY[name]
    assert Operator(circuit).equiv(Operator(_roundtrip(circuit, version)))


def test_v3_keeps_global_phase():
    circuit = QuantumCircuit(2, global_phase=0.7)
    circuit.h(0)
    circuit.append(lib.GlobalPhaseGate(0.4), [])
    back = _roundtrip(circuit, 3)
    assert Operator(back) == Operator(circuit)  # exact, not just up to phase
    assert np.isclose(float(back.global_phase), 1.1)


def test_non_unitary_roundtrip_keeps_structure():
    qr, cr = QuantumRegister(2, "q"), ClassicalRegister(2, "c")
    circuit = QuantumCircuit(qr, cr)
    circuit.h(0)
    circuit.measure(0, 0)
    with circuit.if_test((cr, 1)):
        circuit.x(1)
    circuit.reset(0)
    circuit.measure(1, 1)
    for version in (2, 3):
        _assert_same_program(circuit, _roundtrip(circuit, version), f"v{version}")


# ------------------------------------------------------------------------------------------
# free parameters (OpenQASM 3 only)
# ------------------------------------------------------------------------------------------


def _bind_by_name(circuit: QuantumCircuit, values: dict[str, float]) -> QuantumCircuit:
    return circuit.assign_parameters({p: values[p.name] for p in circuit.parameters})


def _parametric_circuits() -> dict[str, QuantumCircuit]:
    x, theta = ParameterVector("x", 3), ParameterVector("theta", 4)
    a, beta, t = Parameter("a"), Parameter("β"), Parameter("t")  # t clashes with the T gate
    custom = QuantumCircuit(3, global_phase=a / 2)
    custom.rx(x[0], 0)
    custom.ry(2 * theta[1] + a, 1)
    custom.rxx(x[2], 0, 2)
    custom.rz(theta[0] * theta[3], 2)
    custom.crz(beta, 2, 0)
    custom.append(lib.RZZGate(theta[1]).control(1), [0, 1, 2])
    custom.p(a - 1.5, 1)
    custom.cry(x[1] * theta[2] - theta[2] / 3, 1, 0)
    custom.u(a, beta, theta[3], 2)
    custom.rx(t, 1)
    body = QuantumCircuit(2)
    body.rx(t, 0)
    body.cx(0, 1)
    body.rz(2 * t, 1)
    gate_with_param = QuantumCircuit(2)
    gate_with_param.append(body.to_gate(), [0, 1])
    gate_with_param.append(lib.RYGate(a).control(1, annotated=True), [1, 0])
    return {
        "custom": custom,
        "gate_with_param": gate_with_param,
        "real_amplitudes": lib.real_amplitudes(3, reps=2),  # vector named θ
        "qnn": lib.zz_feature_map(2).compose(lib.real_amplitudes(2, reps=1)),
        "efficient_su2": lib.efficient_su2(3, reps=1),
    }


PARAMETRIC = _parametric_circuits()


@pytest.mark.parametrize("name", sorted(PARAMETRIC))
def test_v3_free_parameters_roundtrip(name: str):
    circuit = PARAMETRIC[name]
    back = _roundtrip(circuit, 3)
    assert sorted(p.name for p in back.parameters) == sorted(p.name for p in circuit.parameters)
    vectors = {(p.vector.name, len(p.vector)) for p in circuit.parameters if hasattr(p, "vector")}
    elements = [p for p in back.parameters if isinstance(p, ParameterVectorElement)]
    assert vectors == {(p.vector.name, len(p.vector)) for p in elements}
    rng = np.random.default_rng(3)
    values = {p.name: rng.uniform(-3, 3) for p in circuit.parameters}
    assert Operator(_bind_by_name(back, values)).equiv(Operator(_bind_by_name(circuit, values)))


def test_v3_output_is_plain_openqasm3():
    text = qasm.dumps(PARAMETRIC["custom"], 3)
    assert "input float[64] theta_0;" in text and "// ketml:parameters" in text
    plain = qasm3.loads(text)  # another reader sees valid OpenQASM 3 and plain names
    assert "theta_0" in {p.name for p in plain.parameters}


def test_input_declarations_become_parameters():
    text = (
        'OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float[64] alpha;\ninput angle[32] gam;\n'
        "qubit[2] q;\nrx(alpha) q[0];\ncp(2 * gam) q[0], q[1];\n"
    )
    circuit = qasm.loads(text)
    assert sorted(p.name for p in circuit.parameters) == ["alpha", "gam"]
    bound = _bind_by_name(circuit, {"alpha": 0.3, "gam": -0.2})
    expected = QuantumCircuit(2)
    expected.rx(0.3, 0)
    expected.cp(-0.4, 0, 1)
    assert Operator(bound).equiv(Operator(expected))


def test_input_named_x_without_stdgates():
    # with stdgates.inc included, `x` is the X gate and `input float[64] x;` is a clash
    circuit = qasm.loads("OPENQASM 3.0;\ninput float[64] x;\nqubit q;\nU(x, 0, 0) q;\n")
    assert [p.name for p in circuit.parameters] == ["x"]


RICH_V3 = """OPENQASM 3.0;
include "stdgates.inc";
input float[64] theta;
qubit[3] q;
bit[3] c;
ctrl @ rx(theta) q[0], q[1];
inv @ s q[2];
pow(2) @ t q[0];
negctrl @ x q[1], q[2];
gphase(0.3);
for int i in [0:2] { h q[0]; }
c[0] = measure q[0];
if (c[0]) { x q[1]; } else { z q[1]; }
while (c[1]) { reset q[1]; c[1] = measure q[1]; }
barrier q;
measure q -> c;
"""


def test_rich_openqasm3_program_roundtrip():
    circuit = qasm.loads(RICH_V3)
    assert {"crx", "for_loop", "if_else", "while_loop"} <= set(circuit.count_ops())
    assert [p.name for p in circuit.parameters] == ["theta"]
    assert np.isclose(float(circuit.global_phase), 0.3)
    back = _roundtrip(circuit, 3)
    _assert_same_program(circuit.assign_parameters([0.4]), back.assign_parameters([0.4]))
    assert np.isclose(float(back.global_phase), 0.3)


def test_physical_qubits():
    circuit = qasm.loads('OPENQASM 3.0;\ninclude "stdgates.inc";\nh $0;\ncx $0, $2;\n')
    assert circuit.num_qubits == 3


def test_dumps_rejects_free_parameters_in_v2():
    with pytest.raises(ValueError, match="OpenQASM 2 cannot hold free parameters") as info:
        qasm.dumps(PARAMETRIC["custom"], 2)
    assert not isinstance(info.value, QasmError)
    assert "assign_parameters" in str(info.value)


@pytest.mark.parametrize("version", [1, 4, "3", 3.5, True])
def test_dumps_rejects_bad_version(version):
    with pytest.raises(ValueError, match="version must be 2 or 3"):
        qasm.dumps(QuantumCircuit(1), version)


def test_dumps_rejects_non_circuit():
    with pytest.raises(TypeError):
        qasm.dumps("OPENQASM 2.0;")


# ------------------------------------------------------------------------------------------
# version detection, files
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("OPENQASM 2.0;\nqreg q[1];", 2),
        ("// comment\n/* block */ OPENQASM 3;\nqubit q;", 3),
        ("OPENQASM 3.0;\nqreg q[1];", 3),
        ('include "qelib1.inc";\nqreg q[2];\nh q[0];', 2),
        ('include "stdgates.inc";\nqubit[2] q;\nh q[0];', 3),
        ("qubit[2] q;\nU(0.1, 0, 0) q[0];", 3),
        ("input float[64] a;\nqubit q;\nU(a, 0, 0) q;", 3),
    ],
)
def test_detect_version(text: str, version: int):
    assert qasm.detect_version(text) == version
    assert qasm.loads(text).num_qubits >= 1


def test_load_resolves_includes_beside_the_file(tmp_path: Path):
    (tmp_path / "mygates.inc").write_text("gate bell a, b { h a; cx a, b; }\n")
    main = tmp_path / "main.qasm"
    header = 'OPENQASM 2.0;\ninclude "qelib1.inc";\ninclude "mygates.inc";\n'
    main.write_text(header + "qreg q[2];\nbell q[0], q[1];\n")
    circuit = qasm.load(main)
    expected = QuantumCircuit(2)
    expected.h(0)
    expected.cx(0, 1)
    assert Operator(circuit).equiv(Operator(expected))
    with pytest.raises(QasmError, match="mygates.inc") as info:
        qasm.loads(main.read_text())  # from text, the include is not beside the cwd
    assert (info.value.line, info.value.column) == (3, 9)


def test_error_inside_included_file_points_at_the_include(tmp_path: Path):
    (tmp_path / "broken.inc").write_text("gate g a {\n  h a\n}\n")
    main = tmp_path / "main.qasm"
    main.write_text('OPENQASM 2.0;\ninclude "qelib1.inc";\ninclude "broken.inc";\nqreg q[1];\n')
    with pytest.raises(QasmError, match=r"broken\.inc, line 3") as info:
        qasm.load(main)
    assert (info.value.line, info.value.column) == (3, 1)


def test_load_rejects_non_utf8(tmp_path: Path):
    path = tmp_path / "bad.qasm"
    path.write_bytes(b"OPENQASM 2.0;\nqreg q[1];\nh q[0]; // caf\xe9\n")
    with pytest.raises(QasmError, match="not UTF-8") as info:
        qasm.load(path)
    assert (info.value.line, info.value.column) == (3, 15)


def test_dump_and_load_file(tmp_path: Path):
    path = tmp_path / "qft.qasm"
    qasm.dump(synth_qft_full(3), path, version=2)
    assert path.read_text().startswith("OPENQASM 2.0;")
    assert Operator(qasm.load(path)).equiv(Operator(synth_qft_full(3)))


def test_loads_rejects_non_text():
    with pytest.raises(TypeError):
        qasm.loads(b"OPENQASM 2.0;")


# ------------------------------------------------------------------------------------------
# malformed input: QasmError with the exact line and column
# ------------------------------------------------------------------------------------------

H2 = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'
H3 = 'OPENQASM 3.0;\ninclude "stdgates.inc";\n'

BAD = [
    # (id, text, line, column, fragment of the message)
    ("empty", "  // only a comment\n", 1, 1, "empty OpenQASM program"),
    ("version 4", "OPENQASM 4.0;\nqreg q[1];\n", 1, 10, "unsupported OpenQASM version 4.0"),
    ("version 1", "// c\nOPENQASM 1;\n", 2, 10, "unsupported OpenQASM version 1"),
    ("version missing", "OPENQASM ;\nqreg q[1];\n", 1, 10, "expected a version number"),
    ("file name", "circuits/foo.qasm", 1, 1, "use load(path)"),
    ("2 missing ;", H2 + "qreg q[2];\nh q[0]\ncx q[0],q[1];\n", 4, 7, "missing ';' after `h q[0]`"),
    (
        "2 missing ; before comment",
        H2 + "qreg q[2];\nh q[0] // hadamard\n\ncx q[0],q[1];\n",
        4,
        7,
        "missing ';'",
    ),
    ("2 missing ; at end", H2 + "qreg q[2];\nh q[0]", 4, 7, "missing ';'"),
    ("2 missing ; on qreg", H2 + "qreg q[2]\nh q[0];\n", 3, 10, "missing ';' after `qreg q[2]`"),
    ("2 unknown gate", H2 + "qreg q[2];\nfoo q[0];\n", 4, 1, "'foo' is not defined"),
    ("2 undeclared register", H2 + "qreg q[2];\ncx q[0], r[0];\n", 4, 10, "'r' is not defined"),
    ("2 index out of range", H2 + "qreg q[2];\nh q[5];\n", 4, 5, "index 5 is out-of-range"),
    ("2 too few qubits", H2 + "qreg q[2];\ncx q[0];\n", 4, 1, "takes 2 quantum arguments"),
    (
        "2 missing parameter",
        H2 + "qreg q[2];\nrx q[0];\n",
        4,
        1,
        "'rx' takes 1 parameter, but got 0",
    ),
    ("2 extra parameter", H2 + "qreg q[2];\nrx(1,2) q[0];\n", 4, 1, "takes 1 parameter, but got 2"),
    ("2 bad token", H2 + "qreg q[2];\nh q[0] @;\n", 4, 8, "'@'"),
    ("2 duplicate register", H2 + "qreg q[2];\nqreg q[3];\n", 4, 6, "'q' is already defined"),
    ("2 undefined parameter", H2 + "qreg q[1];\nrx(t) q[0];\n", 4, 4, "'t' is not a parameter"),
    (
        "2 missing include",
        'OPENQASM 2.0;\ninclude "nope.inc";\n',
        2,
        9,
        "unable to find 'nope.inc'",
    ),
    ("2 qasm3 syntax", H2 + "qubit[2] q;\n", 3, 1, "'qubit' is not defined"),
    ("2 no header", 'include "qelib1.inc";\nqreg q[2];\nh q[0]\n', 3, 7, "read as OpenQASM 2"),
    (
        "3 missing ;",
        H3 + "qubit[2] q;\nh q[0]\ncx q[0], q[1];\n",
        4,
        7,
        "missing ';' after `h q[0]`",
    ),
    ("3 missing ; at end", H3 + "qubit[2] q;\nh q[0]", 4, 7, "missing ';'"),
    ("3 missing ; on decl", H3 + "qubit[2] q\nh q[0];\n", 3, 11, "missing ';' after `qubit[2] q`"),
    ("3 unknown gate", H3 + "qubit[2] q;\nfoo q[0];\n", 4, 1, "gate 'foo' is not defined"),
    ("3 undeclared qubit", H3 + "qubit[2] q;\ncx q[0], r[1];\n", 4, 10, "Undefined symbol 'r'"),
    ("3 index out of range", H3 + "qubit[2] q;\nh q[5];\n", 4, 1, "index out of range"),
    ("3 too few qubits", H3 + "qubit[2] q;\ncx q[0];\n", 4, 1, "'cx' takes 2 qubit arguments"),
    (
        "3 missing parameter",
        H3 + "qubit[2] q;\nrx q[0];\n",
        4,
        1,
        "'rx' takes 1 parameter, but got 0",
    ),
    (
        "3 extra parameter",
        H3 + "qubit[2] q;\nrx(1, 2) q[0];\n",
        4,
        1,
        "takes 1 parameter, but got 2",
    ),
    (
        "3 user gate arity",
        H3 + "gate g(t) a, b { rx(t) a; cx a, b; }\nqubit[2] q;\ng(0.1) q[0];\n",
        5,
        1,
        "gate 'g' takes 2 qubit arguments, but got 1",
    ),
    ("3 duplicate register", H3 + "qubit[2] q;\nqubit[3] q;\n", 4, 1, "already exists"),
    ("3 repeated qubit", H3 + "qubit[2] q;\ncx q[0], q[0];\n", 4, 1, "duplicate"),
    ("3 bad token", H3 + "qubit[2] q;\nh q[0] @;\n", 4, 8, "expected ';', found '@'"),
    ("3 bad character", H3 + "qubit[2] q;\nh q[0]; `\n", 4, 9, "invalid character '`'"),
    ("3 unclosed paren", H3 + "qubit[2] q;\nrx(0.1 q[0];\n", 4, 8, "unexpected 'q'"),
    ("3 unclosed bracket", H3 + "qubit[2] q;\nh q[0;\n", 4, 6, "unexpected ';'"),
    ("3 unclosed brace", H3 + "qubit[2] q;\ngate g a { h a;\nh q[0];\n", 4, 10, "unclosed '{'"),
    ("3 undefined parameter", H3 + "qubit[2] q;\nrx(t) q[0];\n", 4, 4, "got 't'"),
    ("3 name clash", H3 + "input float[64] x;\nqubit q;\nrx(x) q;\n", 3, 17, "'x' is already"),
    ("3 int input", H3 + "input int[32] n;\nqubit q;\n", 3, 1, "only 'float' and 'angle'"),
    ("3 other include", 'OPENQASM 3.0;\ninclude "nope.inc";\n', 2, 1, "imports not"),
    ("3 bad gate body", H3 + "gate g a { foo a; }\nqubit q;\ng q;\n", 3, 12, "'foo'"),
    ("3 function call", H3 + "input float[64] a;\nqubit q;\nrx(sin(a)) q;\n", 5, 4, "sin(...)"),
    ("3 no header", 'include "stdgates.inc";\nqubit[2] q;\nh q[0]\n', 3, 7, "read as OpenQASM 3"),
]


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_malformed_input(text: str, line: int, column: int, fragment: str):
    with pytest.raises(QasmError) as info:
        qasm.loads(text)
    err = info.value
    assert fragment in str(err)
    assert (err.line, err.column) == (line, column), str(err)
    assert f"(line {line}, column {column})" in str(err)


def test_without_reference_importer_falls_back_to_native(monkeypatch):
    """Without qiskit_qasm3_import, Qiskit's native importer reads simple programs and errors
    still carry the position that its (captured) diagnostics report."""
    monkeypatch.setattr(qasm.qasm3, "reference_importer", lambda: None)
    circuit = qasm.loads(H3 + "qubit[2] q;\nh q[0];\ncx q[0], q[1];\n")
    assert circuit.count_ops() == {"h": 1, "cx": 1}
    with pytest.raises(QasmError, match="qiskit-qasm3-import") as info:
        qasm.loads(H3 + "qubit[2] q;\nh r[0];\n")
    assert (info.value.line, info.value.column) == (4, 3)
