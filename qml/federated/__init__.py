"""Federated learning of variational quantum circuits on Flower, and the gradient-inversion
privacy study (Kumar et al., arXiv 2309.13002; Papadopoulos et al., arXiv 2504.12806).

* :mod:`.circuit`, :mod:`.model`: the expressive-encoding VQC, registered as ``vqc``;
  :mod:`.task`: the ``vector-classification`` task (``gaussian-classes``).
* :mod:`.pool`, :mod:`.partition`: catalogued datasets split among clients (IID, Dirichlet).
* :mod:`.config`, :mod:`.local`, :mod:`.client`, :mod:`.server`: the Flower ClientApp and
  ServerApp (Message API; FedAvg/FedProx, per-round checkpoints, resume, fault tolerance).
* :mod:`.simulation`, :mod:`.deployment`, :mod:`.runs`: the two Flower engines, run folders.
* :mod:`.attacks`, :mod:`.dlg`, :mod:`.study`: gradient-inversion attacks and the sweep.
"""

from . import model as _model  # noqa: F401  (registers vqc)
from . import task as _task  # noqa: F401  (registers vector-classification)
from .circuit import encoding_circuit, max_frequency, overparameterised_layers, vqc_circuit
from .config import FedConfig
from .model import VQCClassifier
from .partition import label_histogram, parse_partition, partition
from .pool import load_pool

__all__ = [
    "FedConfig",
    "VQCClassifier",
    "encoding_circuit",
    "label_histogram",
    "load_pool",
    "max_frequency",
    "overparameterised_layers",
    "parse_partition",
    "partition",
    "vqc_circuit",
]
