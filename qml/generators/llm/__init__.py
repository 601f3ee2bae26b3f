"""The LLM circuit generator of Agent-Q (arXiv 2504.11109): its dataset, fine-tuning and evaluation.

:mod:`.problems` turns the paper's graph problems into QUBO/HUBO cost Hamiltonians (exact optima
by diagonalisation, at most 16 qubits); :mod:`.optimise` solves them with QAOA and VQE on the
torch engine, batched, and with adaptive VQE (:mod:`.adaptive`); :mod:`.dataset` writes the
JSON-lines records, resumes a build and runs it on any executor; :mod:`.prompts` is the paper's
prompt; :mod:`.sft` registers the ``llm-circuits`` task and model (fine-tuning with a
completion-only loss through the shared trainer; any causal LM through :mod:`.causal_lm`);
:mod:`.generate` answers prompts with pinned decoding; :mod:`.constrained` is a logits processor
that keeps generated text a valid OpenQASM 3 prefix; :mod:`.evaluate` scores generated OpenQASM 3
with the paper's four metrics and :mod:`.warm_start` uses the generated angles as a start.
Importing this package imports neither ``transformers`` nor the trainer (:mod:`.sft` does).
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
