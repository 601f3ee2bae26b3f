"""Any causal language model (``transformers``) as the circuit generator's base: from a local folder,
or by Hub name where the Hugging Face Hub is reachable, with one-line errors for everything else.

:func:`check_causal_lm` refuses a folder that is not a model, a model that is not a causal LM
(an encoder such as BERT) and a Hub name when the Hub cannot be reached, before any weights load.
:class:`PretrainedLM` wraps the loaded model so that it trains through the shared loop like the
from-scratch GPT-2 (:class:`qml.generators.lm.CircuitLM`): both expose the ``transformers`` model
as ``.gpt``.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from torch import nn

from circuits.errors import ConfigurationError, DataError

__all__ = ["PretrainedLM", "check_causal_lm", "hub_reachable", "load_tokenizer"]


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether huggingface.co answers (``HF_HUB_OFFLINE=1`` says no without asking)."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False
    try:
        socket.create_connection(("huggingface.co", 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def check_causal_lm(name_or_path: str | os.PathLike):
    """The ``transformers`` config of a causal LM at ``name_or_path`` (a local folder, or a Hub
    name where the Hub is reachable); ``DataError``/``ConfigurationError`` naming what is wrong."""
    from transformers import AutoConfig
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    name = str(name_or_path)
    path = Path(name).expanduser()
    if path.is_file():
        raise DataError(
            f"{name} is a file; give the folder of a causal language model (config.json, weights)"
        )
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise DataError(
                f"{name} is not a causal language model folder: it has no config.json "
                "(save one with model.save_pretrained(folder))"
            )
        try:
            config = AutoConfig.from_pretrained(str(path), local_files_only=True)
        except (OSError, ValueError, KeyError) as exc:
            raise DataError(f"{name}: config.json is not a transformers model config ({exc})") from None
    else:
        if name.startswith((".", "/", "~")) or name.count("/") > 1:
            raise DataError(f"no model folder at {name}")
        if not hub_reachable():
            raise ConfigurationError(
                f"{name!r} is not a local folder and the Hugging Face Hub is not reachable from here "
                "(offline); download the model elsewhere and give its folder"
            )
        try:
            config = AutoConfig.from_pretrained(name)
        except (OSError, ValueError) as exc:
            raise ConfigurationError(
                f"{name!r}: not a model on the Hub ({str(exc).splitlines()[0]})"
            ) from None
    if config.model_type not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        archs = ", ".join(getattr(config, "architectures", None) or []) or "no architecture named"
        raise ConfigurationError(
            f"{name} holds a {config.model_type} model ({archs}), not a causal language model; "
            "give a decoder model such as GPT-2, Llama or Qwen"
        )
    return config


def load_tokenizer(name_or_path: str | os.PathLike):
    """The base model's tokenizer, with a pad token (its ``<eos>`` where it has none)."""
    from transformers import AutoTokenizer

    check_causal_lm(name_or_path)
    try:
        tok = AutoTokenizer.from_pretrained(str(name_or_path))
    except (OSError, ValueError) as exc:
        raise DataError(f"{name_or_path} has no usable tokenizer ({str(exc).splitlines()[0]})") from None
    if tok.eos_token_id is None:
        raise ConfigurationError(f"the tokenizer of {name_or_path} has no end-of-sequence token")
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    return tok


class PretrainedLM(nn.Module):
    """A pretrained causal LM (``.gpt``) with the ids the circuit generator needs."""

    def __init__(self, base: str, eos_id: int, pad_id: int) -> None:
        super().__init__()
        from transformers import AutoModelForCausalLM
        from transformers.utils import logging as hf_logging

        check_causal_lm(base)
        hf_logging.set_verbosity_error()
        self.gpt = AutoModelForCausalLM.from_pretrained(str(base))
        self.eos_id, self.pad_id, self.base = eos_id, pad_id, str(base)

    @property
    def context(self) -> int:
        c = self.gpt.config
        return int(getattr(c, "n_positions", None) or getattr(c, "max_position_embeddings", 2048))

    def describe(self) -> dict:
        return {"base": self.base, "model_type": self.gpt.config.model_type, "context": self.context}
