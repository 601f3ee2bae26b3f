"""ketml's built-in simulator: batched, differentiable state vectors in torch."""

from .engine import TorchEngine, compile_circuit
from .simulator import Simulation

__all__ = ["Simulation", "TorchEngine", "compile_circuit"]
