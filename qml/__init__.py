"""ketml's models (hybrid networks, QRNN/QLSTM, QFWP, reservoirs, QNLP, federated), the ``ketml``
command line (:mod:`qml.cli`) and the offline digits demo (:mod:`qml.demo`).

Submodules are imported on demand (``from qml import demo``) so that ``import qml`` stays light.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ketml")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
