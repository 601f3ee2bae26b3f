"""ketml's models, the tasks that train them, and the ``ketml`` command line (:mod:`qml.cli`).

Each model family is a subpackage that registers its models and tasks in :mod:`qml.registry`
when imported: :mod:`qml.vision` (hybrid image classifiers), :mod:`qml.sequence` (QRNN, QLSTM,
QFWP), :mod:`qml.rl` (recurrent actor-critic, A2C); :mod:`qml.training` is the shared trainer and
:mod:`qml.demo` the offline digits demo (a preset of ``ketml train``). Packages outside ketml add
families through the ``ketml.models`` entry point.

Submodules are imported on demand (``from qml import demo``) so that ``import qml`` stays light.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ketml")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
