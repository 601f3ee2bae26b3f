"""Fold 2: a small transformer that tells real algorithm circuits from random ones.

A circuit becomes a token sequence over its gates (the gate name, the first qubit, and for
multi-qubit gates the signed distance to the second: structure, not angles), cut to ``max_len``
tokens; a tiny BERT (``transformers.BertForSequenceClassification``, trained from scratch here)
labels real 1 and random 0. It is trained on real circuits against random ones matched in width
and gate count, and scored on held-out pairs (accuracy and ROC AUC).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..qasm_text import gate_sequence

__all__ = ["GateVocabulary", "RealRandomClassifier", "load_classifier", "train_classifier"]

_SPECIAL = ("<pad>", "<cls>", "<unk>")


class GateVocabulary:
    """Token ids of gate names, qubit positions (``Q0``..``Q127``) and qubit distances (``D-32``..``D32``)."""

    def __init__(self, gate_names: list[str]) -> None:
        self.gate_names = sorted(set(gate_names))
        tokens = list(_SPECIAL) + [f"G:{g}" for g in self.gate_names]
        tokens += [f"Q{i}" for i in range(128)] + [f"D{d}" for d in range(-32, 33)]
        self.ids = {t: i for i, t in enumerate(tokens)}

    def __len__(self) -> int:
        return len(self.ids)

    def encode(self, circuit, max_len: int) -> list[int]:
        unk = self.ids["<unk>"]
        out = [self.ids["<cls>"]]
        for name, qs in gate_sequence(circuit):
            out.append(self.ids.get(f"G:{name}", unk))
            out.append(self.ids[f"Q{min(qs[0], 127)}"])
            if len(qs) > 1:
                out.append(self.ids[f"D{max(-32, min(32, qs[1] - qs[0]))}"])
            if len(out) >= max_len:
                break
        return out[:max_len]


@dataclass
class RealRandomClassifier:
    """The trained classifier; :meth:`prob_real` gives P(real) per circuit."""

    model: object
    vocab: GateVocabulary
    max_len: int

    def _batch(self, circuits) -> tuple[torch.Tensor, torch.Tensor]:
        seqs = [self.vocab.encode(c, self.max_len) for c in circuits]
        width = max(len(s) for s in seqs)
        ids = torch.zeros(len(seqs), width, dtype=torch.long)
        mask = torch.zeros(len(seqs), width, dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = torch.tensor(s)
            mask[i, : len(s)] = 1
        return ids, mask

    @torch.no_grad()
    def prob_real(self, circuits, batch_size: int = 64) -> list[float]:
        self.model.eval()
        out: list[float] = []
        for i in range(0, len(circuits), batch_size):
            ids, mask = self._batch(circuits[i : i + batch_size])
            logits = self.model(input_ids=ids, attention_mask=mask).logits
            out += torch.softmax(logits, dim=-1)[:, 1].tolist()
        return out


def load_classifier(gate_names: list[str], max_len: int, weights: dict) -> RealRandomClassifier:
    """The classifier of saved ``weights`` (a ``state_dict``) over ``gate_names``."""
    vocab = GateVocabulary(gate_names)
    model = _make_model(len(vocab), max_len, 0)
    model.load_state_dict(weights)
    model.eval()
    return RealRandomClassifier(model, vocab, max_len)


def _make_model(vocab_size: int, max_len: int, seed: int):
    from transformers import BertConfig, BertForSequenceClassification
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        max_position_embeddings=max_len,
        num_labels=2,
        pad_token_id=0,
    )
    return BertForSequenceClassification(config)


def train_classifier(
    real,
    random,
    *,
    max_len: int = 256,
    epochs: int = 8,
    batch_size: int = 32,
    lr: float = 1e-3,
    seed: int = 0,
    progress: bool = False,
) -> RealRandomClassifier:
    """Train on ``real`` (label 1) and ``random`` (label 0) ``QuantumCircuit`` lists."""
    from tqdm.auto import tqdm

    names = [inst.operation.name for c in real for inst in c.data]
    vocab = GateVocabulary(names)
    model = _make_model(len(vocab), max_len, seed)
    clf = RealRandomClassifier(model, vocab, max_len)
    circuits = list(real) + list(random)
    labels = torch.tensor([1] * len(real) + [0] * len(random))
    encoded = [vocab.encode(c, max_len) for c in circuits]
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in tqdm(range(epochs), desc="real-vs-random classifier", disable=not progress, unit="epoch"):
        order = torch.randperm(len(circuits), generator=generator).tolist()
        for i in range(0, len(order), batch_size):
            idx = order[i : i + batch_size]
            seqs = [encoded[j] for j in idx]
            width = max(len(s) for s in seqs)
            ids = torch.zeros(len(seqs), width, dtype=torch.long)
            mask = torch.zeros(len(seqs), width, dtype=torch.long)
            for k, s in enumerate(seqs):
                ids[k, : len(s)] = torch.tensor(s)
                mask[k, : len(s)] = 1
            loss = model(input_ids=ids, attention_mask=mask, labels=labels[idx]).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    return clf
