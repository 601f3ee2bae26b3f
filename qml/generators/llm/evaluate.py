"""The Agent-Q paper's four metrics for generated OpenQASM 3 circuits, against their instances.

(1) syntax validity (``qiskit_qasm3_import.parse``); (2) the most probable bitstring is optimal;
(3) KL(p_generated || p_solution), base 2, against the mean over the same circuit with every
gate angle drawn uniformly from [0, 2 pi) (1,000 draws); (4) ``|<H>_gen - <H>_solution| <= 0.2``.
``p_solution`` and ``<H>_solution`` are the dataset record's (its optimised circuit), as the paper.
A text that does not parse or cannot be simulated is a row with its reason, never an exception.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterable
from contextlib import redirect_stderr
from pathlib import Path

import numpy as np
import torch
from qiskit import QuantumCircuit
from qiskit.circuit import ParameterVector
from qiskit.quantum_info import SparsePauliOp
from scipy.special import rel_entr
from scipy.stats import entropy

from circuits import statevector
from circuits.errors import KetmlError

from .hamiltonians import QUBIT_LIMIT, diagonal

__all__ = [
    "evaluate",
    "evaluate_folder",
    "evaluate_text",
    "extract_qasm",
    "file_name",
    "kl_rows",
    "randomisable",
    "summarise",
    "write_report",
]

_FENCE = re.compile(r"```(?:[a-zA-Z0-9]*)\n(.*?)(?:```|$)", re.S)
_WIDTH = re.compile(r"\b(?:qubit|bit|qreg|creg)\s*\[\s*(\d+)\s*\]")


def extract_qasm(text: str) -> str:
    """The QASM of a model's answer: the first fenced block if there is one (text after its
    closing fence dropped, a pitfall the paper names), else the text itself."""
    m = _FENCE.search(text)
    return m.group(1) if m else text


def _parse(text: str) -> QuantumCircuit:
    from qiskit_qasm3_import import parse

    widths = _WIDTH.findall(text)
    if any(len(w) > 6 for w in widths) or sum(int(w) for w in widths if len(w) <= 6) > 4 * QUBIT_LIMIT:
        raise ValueError(f"registers wider than {4 * QUBIT_LIMIT} bits in all")
    return parse(text)


def randomisable(qc: QuantumCircuit) -> tuple[QuantumCircuit, int]:
    """``qc`` with every numeric gate angle replaced by a parameter ``r[k]``, and their count."""
    count = sum(len(i.operation.params) for i in qc.data if i.operation.name not in ("measure", "barrier"))
    r = ParameterVector("r", count)
    out = qc.copy_empty_like()
    k = 0
    for inst in qc.data:
        op = inst.operation
        if op.params and op.name not in ("measure", "barrier"):
            op = op.copy()
            op.params = [r[k + j] for j in range(len(op.params))]
            k += len(op.params)
        out.append(op, inst.qubits, inst.clbits)
    return out, count


def _probs(qc: QuantumCircuit, values=None) -> np.ndarray:
    return statevector(qc, values, dtype="complex128").abs().square().numpy()


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    return float(entropy(p, q, base=2))


def kl_rows(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``scipy.stats.entropy(p_i, q, base=2)`` for every row ``p_i`` of ``p`` at once (both normalised)."""
    p = p / p.sum(-1, keepdims=True)
    return rel_entr(p, q / q.sum()).sum(-1) / np.log(2)


def _finite(a: float) -> bool:
    """A finite angle (an integer too large for a float is not: a digit loop writes one)."""
    try:
        return bool(np.isfinite(float(a)))
    except OverflowError:
        return False


def evaluate_text(
    text: str, record: dict, *, n_random: int = 1000, seed: int = 0, tolerance: float = 0.2
) -> dict:
    """One generated answer against its dataset ``record``: a row of the four metrics.

    ``valid`` is syntax validity alone; ``reason`` says why a valid circuit has no other metrics
    (wrong width, not simulable) or why the text is invalid.
    """
    row: dict = {
        "key": record.get("key"),
        "problem": record.get("problem"),
        "n_qubits": record["n_qubits"],
        "method": record.get("method"),
        "layers": record.get("layers"),
        "valid": False,
        "reason": None,
    }
    if not text.strip():
        row["reason"] = "empty answer (no token written, or the prompt filled the model's context)"
        return row
    try:
        with redirect_stderr(io.StringIO()) as err:  # the ANTLR parser prints its errors there
            qc = _parse(extract_qasm(text))
    except Exception as exc:  # noqa: BLE001 - any parser failure is an invalid text, with its reason
        detail = (str(exc).strip() or err.getvalue().strip() or "no message").splitlines()[0]
        if isinstance(exc, IndexError):  # the importer's message for q[i] beyond the register
            detail = f"a qubit or bit index beyond its register ({detail})"
        row["reason"] = f"{type(exc).__name__}: {detail}"[:300]
        return row
    row["valid"] = True
    n = record["n_qubits"]
    if qc.num_qubits != n:
        row["reason"] = f"the circuit has {qc.num_qubits} qubits, the instance {n}"
        return row
    qc = qc.remove_final_measurements(inplace=False)
    if qc.parameters:
        row["reason"] = f"the circuit has unbound parameters: {', '.join(p.name for p in qc.parameters)}"
        return row
    infinite = [
        i.operation.name
        for i in qc.data
        for a in i.operation.params
        if isinstance(a, (int, float)) and not _finite(a)
    ]
    if infinite:  # e.g. a digit loop in an angle's integer part parses as inf
        row["reason"] = f"not simulable: a {infinite[0]} angle is not a finite number"
        return row
    h = SparsePauliOp.from_list([tuple(t) for t in record["hamiltonian"]])
    diag = diagonal(h)
    p_sol = np.asarray(record["probabilities"], dtype=float)
    try:
        p_gen = _probs(qc)[0]
        template, count = randomisable(qc)
        rng = np.random.default_rng(seed)
        draws = rng.uniform(0, 2 * np.pi, size=(n_random, count))
        p_rand = (
            np.concatenate(
                [_probs(template, torch.as_tensor(draws[i : i + 100])) for i in range(0, n_random, 100)]
            )
            if count
            else np.repeat(p_gen[None], n_random, 0)
        )
    except KetmlError as exc:
        row["reason"] = f"not simulable: {exc}"
        return row
    top = int(np.argmax(p_gen))
    e_gen, e_sol = float(p_gen @ diag), float(record["expectation"])
    row.update(
        most_probable=format(top, f"0{n}b"),
        most_probable_optimal=bool(diag[top] <= record["exact_energy"] + 1e-9),
        kl_generated=_kl(p_gen, p_sol),
        kl_random=float(np.mean(kl_rows(p_rand, p_sol))),
        expectation=e_gen,
        expectation_solution=e_sol,
        expectation_random=float(np.mean(p_rand @ diag)),
        exact_energy=float(record["exact_energy"]),
        expectation_gap=abs(e_gen - e_sol),
        expectation_success=bool(abs(e_gen - e_sol) <= tolerance),
    )
    return row


def evaluate(pairs: Iterable[tuple[str, dict]], **options) -> list[dict]:
    """:func:`evaluate_text` on every ``(text, record)`` pair."""
    return [evaluate_text(text, record, **options) for text, record in pairs]


def file_name(key: str) -> str:
    """The file name of a record's generated circuit in a folder: the key with ``/`` as ``__``."""
    return key.replace("/", "__") + ".qasm"


def evaluate_folder(folder: str | os.PathLike, records: list[dict], **options) -> list[dict]:
    """Every ``folder/<file_name(key)>`` against its record; a record whose file is missing is an
    invalid row ("no generated file"), a file without a record is ignored."""
    root = Path(folder)
    rows = []
    for r in records:
        path = root / file_name(r["key"])
        if not path.is_file():
            rows.append(
                {
                    "key": r["key"],
                    "problem": r.get("problem"),
                    "n_qubits": r["n_qubits"],
                    "method": r.get("method"),
                    "layers": r.get("layers"),
                    "valid": False,
                    "reason": f"no generated file {path.name}",
                }
            )
            continue
        rows.append(evaluate_text(path.read_text(errors="replace"), r, **options))
    return rows


def summarise(rows: list[dict]) -> dict:
    """The paper's table: counts, validity, correct states, mean KL (generated / random, finite
    ones; ``kl_infinite`` counts the rest), mean expectations and the success rate."""
    sim = [r for r in rows if "kl_generated" in r]
    fin = [r for r in sim if np.isfinite(r["kl_generated"]) and np.isfinite(r["kl_random"])]
    mean = lambda key, rs: float(np.mean([r[key] for r in rs])) if rs else float("nan")  # noqa: E731
    kl_gen, kl_rand = mean("kl_generated", fin), mean("kl_random", fin)
    return {
        "samples": len(rows),
        "valid": sum(r["valid"] for r in rows),
        "valid_rate": sum(r["valid"] for r in rows) / len(rows) if rows else float("nan"),
        "simulated": len(sim),
        "correct_state": sum(r["most_probable_optimal"] for r in sim),
        "kl_generated": kl_gen,
        "kl_random": kl_rand,
        "kl_ratio": kl_gen / kl_rand if fin else float("nan"),
        "kl_infinite": len(sim) - len(fin),
        "expectation_generated": mean("expectation", sim),
        "expectation_solution": mean("expectation_solution", sim),
        "expectation_random": mean("expectation_random", sim),
        "expectation_success": sum(r["expectation_success"] for r in sim),
        "expectation_success_rate": sum(r["expectation_success"] for r in sim) / len(rows)
        if rows
        else float("nan"),
    }


def write_report(rows: list[dict], path: str | os.PathLike) -> Path:
    """Rows as JSON lines (``pandas.read_json(path, lines=True)``), written whole then renamed."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(p.suffix + ".tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    tmp.replace(p)
    return p
