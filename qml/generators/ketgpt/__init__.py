"""KetGPT (arXiv 2402.13352): a GPT-2 trained from scratch on real algorithm circuits that writes
new, realistic OpenQASM 2 circuits. The model registers as ``ketgpt`` (task ``circuit-lm``);
:mod:`qml.generators.ketgpt.generate` draws circuits from a trained run folder."""

from . import model as _model  # noqa: F401  (registers the model)
from .generate import Generator, generate, load_generator, write_circuits
from .model import build_ketgpt

__all__ = ["Generator", "build_ketgpt", "generate", "load_generator", "write_circuits"]
