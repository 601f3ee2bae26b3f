"""A byte-level BPE tokenizer trained on OpenQASM text (HF ``tokenizers``), shared by the generators.

Byte-level BPE round-trips any text exactly (decode(encode(t)) == t), so a sampled token sequence
is always the QASM text it spells. Merges may span a whole line but never two (the text is split
after each newline, not at every punctuation mark as GPT-2 does), so common statements such as
``h q[0];\\n`` become single tokens: about 8 characters per token on the MQT Bench corpus, four
times fewer tokens than GPT-2's splitting. ``<eos>`` ends a circuit (the chunked training stream puts one
between circuits); ``<pad>`` pads batches.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from circuits.errors import ConfigurationError, DataError

__all__ = ["EOS", "PAD", "QasmTokenizer", "train_tokenizer"]

EOS = "<eos>"
PAD = "<pad>"


class QasmTokenizer:
    """A trained ``tokenizers.Tokenizer`` with the ids of ``<eos>`` and ``<pad>``."""

    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer
        eos, pad = tokenizer.token_to_id(EOS), tokenizer.token_to_id(PAD)
        if eos is None or pad is None:
            raise ConfigurationError(f"the tokenizer lacks the special tokens {EOS} and {PAD}")
        self.eos_id, self.pad_id = eos, pad

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text).ids

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer.encode_batch(texts)]

    def decode(self, ids: Iterable[int]) -> str:
        """The text of ``ids``, stopping at the first ``<eos>``."""
        out = []
        for i in ids:
            if i == self.eos_id:
                break
            if i != self.pad_id:
                out.append(int(i))
        return self.tokenizer.decode(out, skip_special_tokens=True)

    def save(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        tmp = path.with_name(f".{path.name}.part")
        self.tokenizer.save(str(tmp))
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> QasmTokenizer:
        from tokenizers import Tokenizer

        try:
            return cls(Tokenizer.from_file(str(path)))
        except FileNotFoundError:
            raise DataError(f"no tokenizer at {path}") from None
        except Exception as exc:  # tokenizers raises its own Exception type for a bad file
            raise DataError(f"{path} is not a tokenizer file ({exc})") from None


#: a register index: the digits between ``[`` and ``]`` (``q[3]``, ``qubit[9]``)
INDEX = r"(?<=\[)\d+(?=\])"
#: one angle of a gate's parameter list: the text between ``(`` or ``,`` and ``,`` or ``)``
ANGLE = r"(?<=[(,])[^,()\n]+(?=[,)])"


def train_tokenizer(
    texts: Iterable[str],
    vocab_size: int = 2000,
    min_frequency: int = 2,
    *,
    index_tokens: bool = False,
    angle_tokens: bool = False,
) -> QasmTokenizer:
    """A byte-level BPE of at most ``vocab_size`` tokens trained on ``texts`` (deterministic).

    ``index_tokens`` keeps every register index its own piece (``cx q[`` ``0`` ``], q[`` ``2``
    ``];``), so a statement's qubits are tokens the model chooses one by one, the same tokens
    as the register size, instead of being fused into a whole-line token per index combination.
    ``angle_tokens`` keeps every angle of a parameter list its own piece (``u3(`` ``pi/2`` ``,``
    ``0.25`` ``,`` ...), so the number of angles a gate takes is a count of separators."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

    if vocab_size < 300:
        raise ConfigurationError(f"vocab_size must be at least 300 (256 bytes + merges); got {vocab_size}")
    tok = Tokenizer(models.BPE())
    splits = [pre_tokenizers.Split(Regex(r"[^\n]*\n?"), behavior="isolated")]  # one piece per line
    if index_tokens:
        splits.append(pre_tokenizers.Split(Regex(INDEX), behavior="isolated"))
    if angle_tokens:
        splits.append(pre_tokenizers.Split(Regex(ANGLE), behavior="isolated"))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [*splits, pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=[EOS, PAD],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(texts), trainer=trainer)
    return QasmTokenizer(tok)
