"""Reliability of the library API under bad input and faults (issue 24, the circuits core): empty
batches, memory guards, hostile or runaway OpenQASM, non-finite parameter values and Qiskit-style
binding by parameter object. Each case asserts the clear error or the correct result; the cases
that once crashed the interpreter run in a subprocess so that a regression cannot kill pytest.
Every engine is covered by the differential suite (``tests/engines/test_differential.py``)."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter, ParameterVector
from qiskit.quantum_info import Statevector

import circuits
from circuits import qasm
from circuits.errors import (
    LoopLimitError,
    MemoryLimitError,
    ParameterError,
    QasmError,
    UnsupportedOperationError,
)

ROOT = Path(__file__).resolve().parents[2]


def _run_python(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
    )


def _circuit() -> QuantumCircuit:
    x = ParameterVector("x", 2)
    qc = QuantumCircuit(2)
    qc.ry(x[0], 0)
    qc.cx(0, 1)
    qc.rx(x[1], 1)
    return qc


# -- the cases that once crashed the interpreter or the machine, in one guarded subprocess ----
@pytest.fixture(scope="module")
def crash_cases() -> dict[str, str]:
    """Run, in one subprocess capped at 8 GiB of address space, the cases that once killed the
    interpreter (Aer's segmentation fault on an empty batch) or the machine (PennyLane's OOM on
    60 qubits); a regression ends that process, not pytest. Returns each case's printed result."""
    done = _run_python(
        """
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (8 * 2**30, 8 * 2**30))
        import torch, circuits
        from circuits.errors import MemoryLimitError
        from qiskit import QuantumCircuit
        from qiskit.circuit import ParameterVector
        n = 60
        x = ParameterVector("x", n)
        qc = QuantumCircuit(n)
        for q in range(n):
            qc.ry(x[q], q)
        for q in range(n - 1):
            qc.cx(q, q + 1)
        obs = ["I" * (n - 1 - i) + "Z" + "I" * i for i in range(n)]
        try:
            circuits.expval(qc, obs, torch.rand(1, n), engine="pennylane")
            print("pennylane60|ran")
        except MemoryLimitError as exc:
            print("pennylane60|refused:", exc, flush=True)
        x = ParameterVector("x", 2)
        qc = QuantumCircuit(2)
        qc.ry(x[0], 0)
        qc.rx(x[1], 1)
        out = circuits.expval(qc, "ZZ", torch.zeros(0, 2), engine="aer")
        print("aer_expval|", tuple(out.shape), flush=True)
        print("aer_sample|", circuits.sample(qc, torch.zeros(0, 2), shots=10, engine="aer"), flush=True)
        out = circuits.expval(qc, ["ZZ", "XI"], torch.zeros(0, 2), engine="aer", shots=10)
        print("aer_shots|", tuple(out.shape), flush=True)
        """,
        timeout=300,
    )
    results = dict(line.split("|", 1) for line in done.stdout.splitlines() if "|" in line)
    results["returncode"] = str(done.returncode)
    results["stderr"] = done.stderr[-2000:]
    return results


def test_empty_batch_on_aer_does_not_crash_the_interpreter(crash_cases):
    """It was a segmentation fault (exit 139) for expval and sample alike."""
    assert crash_cases["returncode"] == "0", crash_cases["stderr"]
    assert crash_cases["aer_expval"].strip() == "(0, 1)"
    assert crash_cases["aer_sample"].strip() == "[]"
    assert crash_cases["aer_shots"].strip() == "(0, 2)"


def test_sixty_qubits_with_sixty_observables_on_pennylane_is_refused_up_front(crash_cases):
    """This case once ran the machine into the OOM killer: the guard refuses it before any
    allocation (a regression dies in the subprocess with a MemoryError at the address-space cap)."""
    refused = crash_cases.get("pennylane60", crash_cases["stderr"])
    assert refused.startswith("refused:") and "60 qubits" in refused and "GiB" in refused
    assert "matrix_product_state" in refused or "nvidia-mgpu" in refused  # the alternative


# -- empty batches ----------------------------------------------------------------------------
def test_empty_batch_through_the_dict_form_and_the_layers():
    qc = _circuit()
    out = circuits.expval(qc, ["ZZ", "IX", "XI"], {"x": torch.zeros(0, 2)})
    assert out.shape == (0, 3)
    layer = circuits.QuantumLayer(qc, ["ZZ"], inputs="x", weights=None)
    assert layer(torch.zeros(0, 2)).shape == (0, 1)
    from circuits.layers import ParallelQuantumLayer

    theta = ParameterVector("theta", 1)
    qc2 = _circuit()
    qc2.rz(theta[0], 1)
    par = ParallelQuantumLayer(qc2, ["ZZ", "XI"], 3)
    out = par(torch.zeros(0, 6))
    assert out.shape == (0, 6)
    out.sum().backward()  # an empty batch still trains: zero gradients, no error
    assert par.weights.grad is not None and torch.all(par.weights.grad == 0)
    # and a list of circuits where one has an empty batch
    outs = circuits.expval([qc, qc], "ZZ", [torch.zeros(0, 2), torch.zeros(1, 2)])
    assert [tuple(o.shape) for o in outs] == [(0, 1), (1, 1)]


def test_empty_batch_kin():
    a, b = Parameter("a"), Parameter("b")
    qc = QuantumCircuit(1)
    qc.rx(a, 0)
    qc.ry(b, 0)
    assert circuits.expval(qc, "Z", {"a": torch.zeros(0), "b": 0.3}).shape == (0, 1)
    assert circuits.sample(qc, {a: np.zeros(0), b: np.zeros(0)}, shots=5) == []
    free = QuantumCircuit(2)
    free.h(0)
    assert circuits.expval(free, ["ZZ", "XI"], torch.zeros(0, 0)).shape == (0, 2)
    assert circuits.statevector(free, torch.zeros(0, 0)).shape == (0, 4)
    with pytest.raises(ParameterError, match="2 parameter.*0 value"):
        circuits.expval(qc, "Z", torch.zeros(0))  # a 1-D empty row is one row of no values


# -- memory guards ----------------------------------------------------------------------------
def _wide(n: int) -> QuantumCircuit:
    x = ParameterVector("x", n)
    qc = QuantumCircuit(n)
    for q in range(n):
        qc.ry(x[q], q)
    for q in range(n - 1):
        qc.cx(q, q + 1)
    return qc


@pytest.mark.parametrize("engine", ["torch", "aer", "cudaq"])
def test_wide_circuits_are_refused_with_the_size_they_need(engine):
    if circuits.engines.available()[engine] != "ok":
        pytest.skip(f"{engine} is not available here")
    with pytest.raises(MemoryLimitError, match=r"50 qubits.*needs about [0-9.e+]+ GiB.*available"):
        circuits.expval(_wide(50), "Z" * 50, torch.rand(1, 50), engine=engine)
    with pytest.raises(MemoryLimitError, match="50 qubits"):
        circuits.statevector(_wide(50), torch.rand(1, 50), engine=engine)


@pytest.mark.parametrize("engine", ["torch", "aer", "pennylane", "cudaq"])
def test_a_trillion_shots_are_refused_before_sampling(engine):
    if circuits.engines.available()[engine] != "ok":
        pytest.skip(f"{engine} is not available here")
    qc = QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    start = time.perf_counter()
    with pytest.raises(MemoryLimitError, match=r"1,000,000,000,000 shots.*fewer shots"):
        circuits.sample(qc, shots=10**12, engine=engine)
    assert time.perf_counter() - start < 30  # refused, not attempted
    if engine == "torch":  # the torch engine's shot estimates draw binomials: no table at all
        out = circuits.expval(qc, "ZZ", shots=10**12, engine=engine, seed=1)
        assert out.item() == pytest.approx(1.0)
    else:
        with pytest.raises(MemoryLimitError, match="shots"):
            circuits.expval(qc, "ZZ", shots=10**12, engine=engine)


def test_torch_backprop_counts_what_autograd_keeps():
    """The guard counts the states backprop keeps per fused step, not a forward pass's copies:
    the forward fits under the limit, the backprop run is refused with the adjoint advice, and
    the adjoint method runs under the same limit with the right gradients."""
    qc = _wide(12)
    for q in range(12):
        qc.rz(0.3 * q, q)
        qc.cx(q, (q + 1) % 12)
    for q in range(11):
        qc.ry(0.1, q)
        qc.cx(q, q + 1)
    batch = 16
    state = batch * 2**12 * 8  # complex64
    limit = 12 * state
    values = torch.rand(batch, 12, requires_grad=True)
    with torch.no_grad():
        circuits.expval(qc, "Z" * 12, values, max_memory=limit)
    with pytest.raises(MemoryLimitError, match=r"backprop gradients.*diff_method='adjoint'"):
        circuits.expval(qc, "Z" * 12, values, max_memory=limit)
    out = circuits.expval(qc, "Z" * 12, values, max_memory=limit, diff_method="adjoint")
    out.sum().backward()
    reference = values.detach().clone().requires_grad_(True)
    circuits.expval(qc, "Z" * 12, reference).sum().backward()
    torch.testing.assert_close(values.grad, reference.grad, atol=1e-5, rtol=1e-4)


@pytest.mark.slow  # a measurement (about 1 GiB, 20 s): run with -m slow after changing the estimate
def test_measured_backprop_peak_stays_under_the_estimate():
    """The estimate is an upper bound on what a backprop step really holds (peak RSS of a fresh
    process), so the guard never lets through a run that then dies in the allocator."""
    done = _run_python(
        """
        import resource, psutil, torch, circuits
        from qiskit import QuantumCircuit
        from qiskit.circuit import ParameterVector
        from circuits.engines.torch_engine.engine import compile_circuit
        n, batch, layers = 20, 2, 4
        x = ParameterVector("x", n * layers)
        qc = QuantumCircuit(n)
        for l in range(layers):
            for q in range(n):
                qc.ry(x[l * n + q], q)
            for q in range(n - 1):
                qc.cx(q, q + 1)
        eng = circuits.engines.get("torch")
        warm = torch.rand(1, n * layers, requires_grad=True)  # autograd's one-time buffers
        circuits.expval(qc, "Z" * n, warm, engine=eng).sum().backward()
        v = torch.rand(batch, n * layers, requires_grad=True)
        before = psutil.Process().memory_info().rss
        circuits.expval(qc, "Z" * n, v, engine=eng).sum().backward()
        used = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
        steps = len(compile_circuit(qc).plan("sv", v, None, None).steps)
        estimate = batch * 2**n * 8 * (5 + 1.5 * steps)
        print(used, estimate)
        """,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    used, estimate = (float(s) for s in done.stdout.split())
    assert used > 0.3 * estimate  # the check measures something of the right size
    assert used < estimate


# -- OpenQASM: sizes, includes, loops ---------------------------------------------------------
@pytest.mark.parametrize(
    "text,where",
    [
        ("OPENQASM 2.0;\nqreg q[100000000];\nh q[0];\n", (2, 1)),
        ('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg a[60000];\nqreg b[60000];\n', (4, 1)),
        ("OPENQASM 2.0;\nqreg q[1];\ncreg c[100000000];\n", (3, 1)),
        ("OPENQASM 3.0;\nqubit[100000000] q;\n", (2, 1)),
        ("OPENQASM 3.0;\nconst uint n = 200000;\nqubit[n] q;\n", (3, 1)),
        ("OPENQASM 3.0;\nbit[100000000] c;\n", (2, 1)),
        ('OPENQASM 3.0;\ninclude "stdgates.inc";\nx $100000000;\n', (3, 3)),
        ("qreg q[100000000];\n", (1, 1)),  # no header
    ],
)
def test_huge_declarations_are_refused_before_parsing(text, where):
    start = time.perf_counter()
    with pytest.raises(QasmError, match=r"declares [0-9,]+ (qubits|classical bits).*max_qubits=") as info:
        qasm.loads(text)
    assert time.perf_counter() - start < 1.0
    assert (info.value.line, info.value.column) == where


def test_max_qubits_is_an_option():
    assert qasm.loads("OPENQASM 2.0;\nqreg q[300];\n", max_qubits=300).num_qubits == 300
    with pytest.raises(QasmError, match="300 qubits"):
        qasm.loads("OPENQASM 2.0;\nqreg q[300];\n", max_qubits=299)


@pytest.mark.parametrize("version", ["2.0", "3.0"])
@pytest.mark.parametrize("name", ["/etc/passwd", "../../../../../../etc/passwd", "/etc/hostname"])
def test_includes_outside_the_program_folder_are_refused_without_reading_them(tmp_path, version, name):
    text = f'OPENQASM {version};\ninclude "{name}";\nqreg q[1];\n'
    with pytest.raises(QasmError, match="outside the folders includes are read from") as info:
        qasm.loads(text)
    assert "root:" not in str(info.value) and "0:0" not in str(info.value)  # no content echoed
    assert (info.value.line, info.value.column) == (2, 1)
    program = tmp_path / "prog.qasm"
    program.write_text(text)
    with pytest.raises(QasmError, match="outside"):
        qasm.load(program)


def test_a_link_that_leads_out_of_the_folder_is_refused(tmp_path):
    (tmp_path / "gates.inc").symlink_to("/etc/passwd")
    program = tmp_path / "prog.qasm"
    program.write_text('OPENQASM 2.0;\ninclude "gates.inc";\nqreg q[1];\n')
    with pytest.raises(QasmError, match='include "gates.inc" is outside') as info:
        qasm.load(program)
    assert "root:" not in str(info.value) and "0:0" not in str(info.value)


def test_includes_in_the_folder_and_subfolders_still_work(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "bell.inc").write_text("gate bell a, b { h a; cx a, b; }\n")
    program = tmp_path / "prog.qasm"
    program.write_text(
        'OPENQASM 2.0;\ninclude "qelib1.inc";\ninclude "lib/bell.inc";\nqreg q[2];\nbell q[0], q[1];\n'
    )
    qc = qasm.load(program)
    assert np.allclose(np.abs(Statevector(qc).data) ** 2, [0.5, 0, 0, 0.5])
    text = program.read_text()
    assert qasm.loads(text, include_path=[tmp_path]).num_qubits == 2


FOR_LOOP = """OPENQASM 3.0;
include "stdgates.inc";
qubit[2] q;
bit[2] c;
for int i in [0:2] { h q[0]; }
for int j in [1:3] { ry(j * 0.5) q[1]; }
c = measure q;
"""


def test_a_for_loop_runs_where_the_torch_engine_s_advice_used_to_send_it():
    """Aer raised 'Cannot bind parameters (_loop_i_0)' on a loop whose body ignores its variable;
    loops are unrolled now, so every engine runs them and agrees with the unrolled reference."""
    qc = qasm.loads(FOR_LOOP)
    ref = QuantumCircuit(2)
    ref.h(0)  # three H: one H
    ref.ry(0.5 + 1.0 + 1.5, 1)
    probs = np.abs(Statevector(ref).data) ** 2
    for engine in ("torch", "aer", "pennylane", "cudaq"):
        if circuits.engines.available()[engine] != "ok":
            continue
        counts = circuits.sample(qc, shots=4000, seed=5, engine=engine)[0]
        got = np.array([counts.get(format(i, "02b"), 0) for i in range(4)]) / 4000
        np.testing.assert_allclose(got, probs, atol=0.04, err_msg=engine)
    body = qc.remove_final_measurements(inplace=False)
    for engine in ("torch", "aer"):
        out = circuits.expval(body, ["IZ", "ZI"], engine=engine)
        np.testing.assert_allclose(out.double().numpy()[0], [0.0, np.cos(3.0)], atol=1e-5)


def test_a_for_loop_with_break_is_refused_with_advice_that_works():
    with_break = qasm.loads(
        'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[1] q;\nbit c;\n'
        "for int i in [0:3] { h q[0]; c = measure q[0]; if (c) { break; } }\n"
    )
    for engine in ("torch", "aer"):
        with pytest.raises(UnsupportedOperationError, match=r"break or continue.*if \(c == false\)"):
            circuits.sample(with_break, shots=10, engine=engine)
    rewritten = qasm.loads(  # the advice: the early exit as an if/else on the measured bit
        'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[1] q;\nbit c;\nc = measure q[0];\n'
        "for int i in [0:3] { if (c == false) { h q[0]; c = measure q[0]; } }\n"
    )
    counts = circuits.sample(rewritten, shots=1600, seed=1, engine="aer")[0]
    assert sum(counts.values()) == 1600 and 50 < counts.get("0", 0) < 150  # (1/2)^4 of 1600 = 100


def test_advice_for_a_while_loop_works():
    """The torch engine sends a while loop to Aer (sample, or expval with shots=): both work."""
    qc = qasm.loads(REPEAT_UNTIL_SUCCESS)
    with pytest.raises(UnsupportedOperationError, match=r"engine='aer' \(sample, or expval with shots=\)"):
        circuits.sample(qc, shots=10)
    assert circuits.sample(qc, shots=100, seed=2, engine="aer")
    out = circuits.expval(qc, "ZZ", engine="aer", shots=1000, seed=2)
    assert out.item() == pytest.approx(-1.0)  # q1 flipped, q0 left in |0> by the loop's exit
    with pytest.raises(UnsupportedOperationError, match="pass shots="):
        circuits.expval(qc, "ZZ", engine="aer")


REPEAT_UNTIL_SUCCESS = """OPENQASM 3.0;
include "stdgates.inc";
qubit[2] q;
bit b;
bit[2] c;
h q[0];
b = measure q[0];
while (b) { reset q[0]; h q[0]; b = measure q[0]; }
x q[1];
c = measure q;
"""

NEVER_ENDS = """OPENQASM 3.0;
include "stdgates.inc";
qubit[1] q;
bit b;
x q[0];
b = measure q[0];
while (b) { x q[0]; x q[0]; }
"""


def test_a_terminating_while_loop_gives_the_same_counts_as_aer_itself():
    from qiskit_aer import AerSimulator

    qc = qasm.loads(REPEAT_UNTIL_SUCCESS)
    ours = circuits.sample(qc, shots=500, seed=3, engine="aer")[0]
    native = AerSimulator().run(qc, shots=500, seed_simulator=3).result().data(0)["counts"]
    assert ours == {format(int(k, 16), "03b"): v for k, v in native.items()}
    assert ours == {"100": 500}  # c = 10 (q1 flipped, q0 in |0>), b = 0: the loop's exit


def test_bits_outside_registers_keep_their_place_in_aer_counts():
    """OpenQASM 3's ``bit b;`` is a classical bit in no register: Aer's counts strings and IBM's
    sampler leave it out, which once gave '010' (Aer) and '10' (ibm) for '101'."""
    qc = qasm.loads(
        'OPENQASM 3.0;\ninclude "stdgates.inc";\nqubit[2] q;\nbit b;\nbit[2] c;\n'
        "x q[0];\nb = measure q[0];\nif (b) { x q[1]; }\nx q[0];\nc = measure q;\n"
    )
    assert circuits.sample(qc, shots=20, engine="torch") == [{"101": 20}]
    assert circuits.sample(qc, shots=20, engine="aer") == [{"101": 20}]
    if circuits.engines.available()["ibm"] == "ok":  # the sampler returns registers only
        ibm = circuits.engines.get("ibm", backend="fake_manila", noise=False, seed=1)
        assert circuits.sample(qc, shots=20, engine=ibm) == [{"101": 20}]


@pytest.mark.parametrize("cap", [3, 1000])
def test_a_while_loop_that_never_ends_hits_the_cap_with_a_clear_error(cap):
    qc = qasm.loads(NEVER_ENDS)
    start = time.perf_counter()
    with pytest.raises(LoopLimitError, match=f"max_loop_iterations={cap:,}"):
        circuits.sample(qc, shots=20, engine="aer", max_loop_iterations=cap)
    with pytest.raises(LoopLimitError, match="raise the cap"):
        circuits.expval(qc, "Z", engine="aer", shots=20, max_loop_iterations=cap)
    assert time.perf_counter() - start < 60


def test_loop_cap_option_is_checked():
    with pytest.raises(circuits.errors.ConfigurationError, match="max_loop_iterations"):
        circuits.engines.get("aer", max_loop_iterations=0)
    with pytest.raises(circuits.errors.ConfigurationError, match="max_loop_iterations"):
        circuits.engines.get("aer", max_loop_iterations=2.5)


def test_a_long_aer_run_ends_on_ctrl_c():
    """Aer's C++ loop holds the interpreter lock, so Ctrl-C used to wait for the whole job (and
    was then dropped); now the process ends within seconds of SIGINT."""
    code = textwrap.dedent(
        """
        import circuits
        from qiskit import QuantumCircuit
        n = 20
        qc = QuantumCircuit(n, 1)
        for layer in range(60):
            for q in range(n):
                qc.rx(0.1 * q + layer, q)
            for q in range(n - 1):
                qc.cx(q, q + 1)
        qc.measure(0, 0)  # mid-circuit: every shot is simulated afresh (a long job)
        qc.h(0)
        print("running", flush=True)
        circuits.sample(qc, shots=100000, engine="aer", seed=1)
        print("finished", flush=True)
        """
    )
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert proc.stdout.readline().strip() == "running"
        time.sleep(3.0)  # into the Aer job
        proc.send_signal(signal.SIGINT)
        sent = time.perf_counter()
        proc.wait(timeout=30)
        assert time.perf_counter() - sent < 10
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "finished" not in proc.stdout.read()
    assert proc.returncode in (-signal.SIGINT, 130, 1)


# -- non-finite parameter values --------------------------------------------------------------
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_values_are_refused_naming_the_parameter(bad):
    qc = _circuit()
    values = torch.tensor([[0.1, 0.2], [0.3, bad]])
    with pytest.raises(ParameterError, match=rf"parameter x\[1\] has the non-finite value {bad} in row 1"):
        circuits.expval(qc, "ZZ", values)
    with pytest.raises(ParameterError, match=r"x\[1\]"):
        circuits.sample(qc, values, shots=10)
    with pytest.raises(ParameterError, match=r"x\[1\]"):
        circuits.statevector(qc, values)
    with pytest.raises(ParameterError, match=r"x\[1\]"):
        circuits.expval(qc, "ZZ", {"x": values.numpy()})
    with pytest.raises(ParameterError, match=r"x\[1\]"):
        circuits.expval(qc, "ZZ", [0.5, bad], engine="aer")
    with pytest.raises(ParameterError, match=r"x\[1\]"):
        circuits.expval([qc, qc], "ZZ", [[0.1, 0.2], [0.1, bad]])
    a = Parameter("a")
    plain = QuantumCircuit(1)
    plain.rx(a, 0)
    with pytest.raises(ParameterError, match="parameter a has"):
        circuits.expval(plain, "Z", {"a": bad})
    with pytest.raises(ParameterError, match="parameter a has"):
        circuits.expval(plain, "Z", {a: torch.tensor([0.0, bad])})


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # Qiskit's, building it
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_observable_coefficients_are_refused(bad):
    from qiskit.quantum_info import SparsePauliOp

    with pytest.raises(circuits.errors.ObservableError, match="NaN or infinite coefficient"):
        circuits.expval(_circuit(), SparsePauliOp(["ZZ", "XI"], [1.0, bad]), [0.1, 0.2])


def test_finite_values_with_gradients_still_flow():
    values = torch.tensor([[0.1, 0.2]], requires_grad=True)
    circuits.expval(_circuit(), "ZZ", values).sum().backward()
    assert values.grad is not None and torch.isfinite(values.grad).all()


# -- binding by parameter object --------------------------------------------------------------
def _bound_reference(qc, mapping):
    return circuits.expval(qc.assign_parameters(mapping), ["ZI", "IZ", "XX"])


def test_qiskit_style_binding_by_parameter_objects():
    theta = ParameterVector("theta", 3)
    a = Parameter("a")
    qc = QuantumCircuit(2)
    qc.rx(theta[0], 0)
    qc.ry(theta[1], 1)
    qc.cx(0, 1)
    qc.rz(theta[2], 0)
    qc.rx(a, 1)
    ref = _bound_reference(qc, {theta: [0.3, 0.4, 0.5], a: 0.6})
    forms = [
        {theta[0]: 0.3, theta[1]: 0.4, theta[2]: 0.5, a: 0.6},  # elements
        {theta: [0.3, 0.4, 0.5], a: 0.6},  # a whole vector -> a sequence
        {theta: np.array([0.3, 0.4, 0.5]), "a": 0.6},  # mixed with names
        {"theta[0]": 0.3, "theta[1]": 0.4, "theta[2]": 0.5, "a": 0.6},  # element names
        {"theta": torch.tensor([0.3, 0.4, 0.5]), a: torch.tensor(0.6)},
    ]
    for values in forms:
        out = circuits.expval(qc, ["ZI", "IZ", "XX"], values)
        torch.testing.assert_close(out, ref, msg=str(values))
    batch = circuits.expval(qc, ["ZI", "IZ", "XX"], {theta: torch.tensor([[0.3, 0.4, 0.5]] * 4), a: 0.6})
    assert batch.shape == (4, 3)
    torch.testing.assert_close(batch, ref.expand(4, 3))
    counts = circuits.sample(qc, {theta[0]: 0.3, theta[1]: 0.4, theta[2]: 0.5, a: 0.6}, shots=50, seed=1)
    assert sum(counts[0].values()) == 50


def test_binding_by_parameter_object_errors_say_what_is_wrong():
    theta = ParameterVector("theta", 2)
    qc = QuantumCircuit(1)
    qc.rx(theta[0], 0)
    qc.ry(theta[1], 0)
    with pytest.raises(ParameterError, match=r"no values given for parameter\(s\) \['theta'\]"):
        circuits.expval(qc, "Z", {theta[0]: 0.1})
    with pytest.raises(ParameterError, match=r"theta\[0\] is given twice"):
        circuits.expval(qc, "Z", {theta: [0.1, 0.2], theta[0]: 0.3})
    other = ParameterVector("phi", 2)
    with pytest.raises(ParameterError, match="phi .a ParameterVector the circuit does not use"):
        circuits.expval(qc, "Z", {theta: [0.1, 0.2], other: [1, 2]})
    a = Parameter("a")
    plain = QuantumCircuit(1)
    plain.rx(a, 0)
    with pytest.raises(ParameterError, match="a different Parameter object"):
        circuits.expval(plain, "Z", {Parameter("a"): 0.1})
    with pytest.raises(ParameterError, match=r"vector 'theta' must have shape \(B, 2\)"):
        circuits.expval(qc, "Z", {theta: [0.1, 0.2, 0.3]})
