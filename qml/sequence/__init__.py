"""Quantum sequence models and their tasks.

* :mod:`.qrnn`: Bausch's recurrent QNN of postselected quantum neurons (arXiv 2006.14619).
* :mod:`.qlstm`: the quantum LSTM (arXiv 2009.01783).
* :mod:`.qfwp`: the quantum fast-weight programmer (arXiv 2402.17760).
* :mod:`.tasks`: the *regression* (time-series windows) and *qrnn* (bit sequences) tasks.
* :mod:`.training`: their hooks of the shared loop (``fit_regression``, ``fit_qrnn``).

Each model registers itself (``ketml train qrnn|qlstm|qfwp``) next to its class.
"""

from . import tasks as _tasks  # noqa: F401  (registers the regression and qrnn tasks)
from .qfwp import QFWP
from .qlstm import QLSTM
from .qrnn import QRNN, qrnn_circuit

__all__ = ["QFWP", "QLSTM", "QRNN", "qrnn_circuit"]
