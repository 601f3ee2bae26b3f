"""The LLM circuit generator of Agent-Q (arXiv 2504.11109): its dataset and its evaluation.

:mod:`.problems` turns the paper's graph problems into QUBO/HUBO cost Hamiltonians (exact optima
by diagonalisation, at most 16 qubits); :mod:`.optimise` solves them with QAOA and VQE on the
torch engine, batched, and with adaptive VQE (:mod:`.adaptive`); :mod:`.dataset` writes the
JSON-lines records and resumes a build; :mod:`.evaluate` scores generated OpenQASM 3 with the
paper's four metrics; :mod:`.constrained` is a logits processor that keeps generated text a valid
OpenQASM 3 prefix. Nothing here imports ``transformers``.
"""

from .dataset import Task, build_dataset, read_records, tasks
from .evaluate import evaluate, evaluate_text, summarise, write_report
from .hamiltonians import QUBIT_LIMIT, exact_optimum
from .optimise import VQE_ANSATZE, Method, optimise
from .problems import PROBLEMS, Instance, build, random_graph, random_instance

__all__ = [
    "PROBLEMS",
    "QUBIT_LIMIT",
    "VQE_ANSATZE",
    "Instance",
    "Method",
    "Task",
    "build",
    "build_dataset",
    "evaluate",
    "evaluate_text",
    "exact_optimum",
    "optimise",
    "random_graph",
    "random_instance",
    "read_records",
    "summarise",
    "tasks",
    "write_report",
]
