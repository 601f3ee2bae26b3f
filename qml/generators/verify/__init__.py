"""``ketml verify``: three folds and novelty for any folder of OpenQASM 2 circuits.

Fold 1 (:mod:`.validity`): parses with Qiskit and simulates on a ketml engine. Fold 2
(:mod:`.classifier`): a small transformer trained here to tell real corpus circuits from random
ones matched in width and gate count (:mod:`.random_circuits`), its held-out accuracy and AUC,
and the fraction of the given circuits it calls real. Fold 3 (:mod:`.structure`): Bandic et al.'s
structure metrics, Wasserstein distances to the real circuits against a random baseline. Plus
novelty (:mod:`.novelty`): exact and near copies of training circuits.
"""

from .verifier import Verifier, list_qasm_files, verify_folder

__all__ = ["Verifier", "list_qasm_files", "verify_folder"]
