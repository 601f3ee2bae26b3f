"""``python -m qml.cli``: the ``ketml`` command line."""

import sys

from qml.cli import main

main(sys.argv[1:])
