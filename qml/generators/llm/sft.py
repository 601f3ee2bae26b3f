"""Fine-tuning on the circuit records: the ``llm-circuits`` task and model, through the shared trainer.

``ketml train llm-circuits --data DIR`` reads ``DIR/records.jsonl`` (``ketml generate dataset``),
holds out ``val_fraction`` of the graphs for validation, and trains on each record's paper prompt
(:mod:`.prompts`) followed by its OpenQASM 3 and ``<eos>``, with the loss on the answer alone
(completion-only: the prompt's labels are masked, as the paper's ``DataCollatorForCompletionOnlyLM``;
``trl`` is not needed). The model is a GPT-2 trained from scratch with a byte-level BPE tokenizer
trained on the records (:mod:`qml.generators.lm`, :mod:`qml.generators.tokenizer`), or any causal
LM from a local folder (``-D base=PATH``; its own tokenizer and chat template). Checkpoint, resume
and progress are :func:`qml.training.loop.train_loop`'s. The run folder holds the tokenizer, so it
is all :mod:`.generate` needs.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from circuits.errors import ConfigurationError, DataError
from qml.registry import register_model, register_task
from qml.training.task import Prepared, Task

from ..grammar_loss import GrammarMasks, legal_masks, next_token_loss
from ..lm import LM_TRAINING, CircuitLM
from ..lm_task import CircuitLMHooks
from ..tokenizer import QasmTokenizer, train_tokenizer
from .dataset import PROMPT_FIELDS, check_records, read_records
from .encoding import IGNORE, Encoder, fixed_decimals, prompt_pieces
from .prompts import chat_prompt

__all__ = [
    "DATASET",
    "Encoder",
    "LLMCircuitsTask",
    "SFTData",
    "build_llm",
    "encode",
    "load_records",
    "split_records",
]

#: the catalogue name of a folder of records (``--data DIR`` gives the folder)
DATASET = "llm-circuit-records"


def load_records(data_root: str | None) -> tuple[Path, list[dict]]:
    """The records of ``data_root/records.jsonl`` (default: the catalogue's folder)."""
    from data.llm_circuit_records import records_path

    path = records_path(data_root)
    records = read_records(path)
    if not records:
        raise DataError(f"{path} holds no complete record")
    check_records(records, path, (*PROMPT_FIELDS, "qasm"))
    return path, records


def graph_key(record: dict) -> str:
    """The instance a record solves (problem, size, seed): every method's record of it."""
    return record["key"].rsplit("/", 1)[0]


def split_records(records: list[dict], val_fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    """Training and validation records, split by instance so no validation graph is trained on."""
    keys = sorted({graph_key(r) for r in records})
    random.Random(seed).shuffle(keys)
    n_val = round(len(keys) * val_fraction) if len(keys) > 1 else 0
    val = set(keys[:n_val])
    return [r for r in records if graph_key(r) not in val], [r for r in records if graph_key(r) in val]


def encode(
    records: list[dict], encoder: Encoder, block: int, kept: list[dict] | None = None
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """``ids`` and ``labels`` ``(N, block)`` (prompt labels and padding ``-100``) of the records
    whose prompt, answer and ``<eos>`` fit in ``block`` tokens (appended to ``kept``, when given),
    and how many did not."""
    ids, labels, too_long = [], [], 0
    for r in records:
        p, a = encoder.prompt_ids(r), encoder.ids(r["qasm"]) + [encoder.eos_id]
        if len(p) + len(a) > block:
            too_long += 1
            continue
        pad = block - len(p) - len(a)
        if kept is not None:
            kept.append(r)
        ids.append(p + a + [encoder.pad_id] * pad)
        labels.append([IGNORE] * len(p) + a + [IGNORE] * pad)
    if not ids:
        return torch.zeros(0, block, dtype=torch.long), torch.zeros(0, block, dtype=torch.long), too_long
    return torch.tensor(ids), torch.tensor(labels), too_long


@dataclass
class SFTData:
    """Token ids and completion-only labels of the training and validation records; with a
    ``grammar_weight``, the grammar's allowed-token masks of both (:mod:`..grammar_loss`)."""

    train_ids: torch.Tensor
    train_labels: torch.Tensor
    val_ids: torch.Tensor
    val_labels: torch.Tensor
    tokenizer: Any
    grammar_weight: float = 0.0
    train_masks: GrammarMasks | None = None
    val_masks: GrammarMasks | None = None
    #: the run folder whose weights start training (data option ``init``)
    init: str | None = None
    #: ``(N, block)``: a token to make less likely at a position (``<eos>`` where an on-policy
    #: answer stopped too early, the line of a loop), ``-100`` elsewhere; aligned with the logits
    train_avoid: torch.Tensor | None = None


def grammar_masks(
    ids: torch.Tensor,
    starts: list[int],
    qubits: list[int],
    tokenizer,
    eos_id: int,
    on_policy: list[bool] | None = None,
    progress: bool = False,
) -> GrammarMasks:
    """The OpenQASM 3 grammar's allowed tokens along each encoded answer (starting at ``starts``,
    its register size from the record), the grammar of the constrained decoder; ``on_policy``
    rows (the model's own answers) are masked up to their first forbidden token."""
    from .constrained import QasmGrammar

    pieces = [tokenizer.decode([i]) if i != eos_id else "" for i in range(tokenizer.vocab_size)]
    grammars: dict[int, QasmGrammar] = {}
    rows = [
        (row, start, grammars.setdefault(n, QasmGrammar(n)), None)
        for row, start, n in zip(ids.tolist(), starts, qubits, strict=True)
    ]
    return legal_masks(rows, pieces, eos_id, ids.shape[1], on_policy=on_policy, progress=progress)


def answer_starts(labels: torch.Tensor) -> list[int]:
    """Where each row's answer starts: its first labelled token."""
    return [next(t for t, v in enumerate(lab) if v != IGNORE) for lab in labels.tolist()]


def _width(labels: torch.Tensor, *cells: torch.Tensor | None) -> int:
    """The tokens a batch needs: to its last label, and past its last masked or avoided position."""
    answer = labels != IGNORE
    width = int(answer.nonzero()[:, 1].max()) + 1 if answer.any() else 1
    for c in cells:
        if c is not None and bool((c >= 0).any()):
            width = max(width, int((c >= 0).nonzero()[:, 1].max()) + 2)
    return min(width, labels.shape[1])


def completion_loss(
    model,
    ids: torch.Tensor,
    labels: torch.Tensor,
    masks: torch.Tensor | None = None,
    table: torch.Tensor | None = None,
    weight: float = 0.0,
    avoid: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean next-token cross-entropy over the answer tokens of a batch, cut to its longest row;
    plus ``weight`` times the grammar's ``-log P(allowed)`` where ``masks`` (the batch's rows of a
    :class:`GrammarMasks` index) and ``table`` are given; ``avoid``: tokens to make less likely
    (:func:`..grammar_loss.next_token_loss`)."""
    if weight == 0:
        masks = None
    if avoid is not None and not bool((avoid != IGNORE).any()):
        avoid = None
    width = _width(labels, masks, avoid)
    # padding follows each row's answer, so causal attention never reaches it from a labelled token
    if masks is None and avoid is None:
        return model.gpt(input_ids=ids[:, :width], labels=labels[:, :width]).loss
    logits = model.gpt(input_ids=ids[:, :width]).logits[:, :-1]
    return next_token_loss(
        logits,
        labels[:, 1:width],
        None if masks is None else masks[:, : width - 1],
        table,
        weight,
        None if avoid is None else avoid[:, : width - 1],
    )


def _check_on_policy(
    init: str | None, rollouts: int, replay: int | None, base: str | None, block: int
) -> None:
    """Refuse on-policy options that cannot work, naming the option."""
    if rollouts < 0 or (replay is not None and replay < 0):
        raise ConfigurationError(f"rollouts and replay must be >= 0; got {rollouts} and {replay}")
    if rollouts and init is None:
        raise ConfigurationError("rollouts need a trained model to answer the prompts: give -D init=RUN")
    if init is None:
        return
    if base is not None:
        raise ConfigurationError("init continues a from-scratch run; it does not combine with base")
    from qml.training.runs import read_run

    folder = Path(init)
    for need in ("run.json", "model.pt", "tokenizer.json"):
        if not (folder / need).is_file():
            raise ConfigurationError(
                f"init={init}: no {need}; give a finished 'ketml train llm-circuits' run folder"
            )
    saved = read_run(folder)
    if saved.get("task") != "llm-circuits" or saved["info"].get("base"):
        raise ConfigurationError(f"init={init} is not a from-scratch llm-circuits run")
    if int(saved["info"]["block"]) != block:
        context = saved["info"]["block"]
        raise ConfigurationError(f"init={init} has context {context}; give -D block={context}")


def _with_rollouts(ids, labels, starts, qubits, kept, init, rollouts, replay, seed, block):
    """``replay`` of the reference rows (all when None) followed by the on-policy rows of
    ``rollouts`` training records answered by the ``init`` run's model (:mod:`.on_policy`): ids,
    labels, answer starts, register sizes, which rows are on-policy, the tokens to avoid
    ``(N, block)`` and the round's record."""
    from .generate import load_llm
    from .on_policy import rollout_rows

    gen = torch.Generator().manual_seed(seed)
    if replay is not None and replay < len(ids):
        keep = torch.randperm(len(ids), generator=gen)[:replay].sort().values.tolist()
        ids, labels = ids[keep], labels[keep]
        starts, qubits = [starts[i] for i in keep], [qubits[i] for i in keep]
    picks = [kept[i] for i in torch.randperm(len(kept), generator=gen)[:rollouts].tolist()]
    rows = rollout_rows(load_llm(init), picks, block, progress=True)
    n_ref = len(ids)
    avoid = torch.full((n_ref + len(rows.ids), block), IGNORE, dtype=torch.long)
    for n, t, token in rows.avoid:  # an early <eos>, a loop's repeated line
        avoid[n_ref + n, t] = token
    info = {"init": str(init), "rollouts": rows.stats, "replay": n_ref, "keys": [r["key"] for r in picks]}
    return (
        torch.cat([ids, rows.ids]),
        torch.cat([labels, rows.labels]),
        starts + rows.starts,
        qubits + rows.qubits,
        [False] * n_ref + [True] * len(rows.ids),
        avoid,
        info,
    )


class SFTHooks(CircuitLMHooks):
    """The LM hooks (best epoch by validation loss, the same messages) with the loss on the answers only."""

    def __init__(self, data: SFTData, config, record: dict) -> None:
        self.data, self.config, self.record = data, config, record
        self.n_train = len(data.train_ids)

    def lengths(self) -> torch.Tensor:
        """Each training row's length: up to its last answer token (its padding after)."""
        labelled = self.data.train_labels != IGNORE
        positions = torch.arange(labelled.shape[1]).expand_as(labelled)
        return torch.where(labelled, positions, -1).amax(1) + 1

    def batch_loss(self, model, idx, generator):
        dev, d, masks = self.config.device, self.data, self.data.train_masks
        index, table = (None, None) if masks is None else (masks.index[idx], masks.table)
        avoid = None if d.train_avoid is None else d.train_avoid[idx].to(dev)
        return completion_loss(
            model,
            d.train_ids[idx].to(dev),
            d.train_labels[idx].to(dev),
            index,
            table,
            d.grammar_weight,
            avoid,
        )

    @torch.no_grad()
    def mean_loss(self, model, ids: torch.Tensor, labels: torch.Tensor) -> float:
        if len(ids) == 0:
            return float("nan")
        model.eval()
        total, tokens = 0.0, 0
        for i in range(0, len(ids), self.config.eval_batch_size):
            b, lab = ids[i : i + self.config.eval_batch_size], labels[i : i + self.config.eval_batch_size]
            n = int((lab[:, 1:] != IGNORE).sum())
            total += float(completion_loss(model, b.to(self.config.device), lab.to(self.config.device))) * n
            tokens += n
        model.train()
        return total / max(tokens, 1)

    def val_ids(self) -> torch.Tensor:
        return self.data.val_ids

    def end_epoch(self, model, generator):
        val = self.mean_loss(model, self.data.val_ids, self.data.val_labels)
        return {"val_loss": val, **self.grammar_epoch(model)}

    def finish(self, model, history, out_dir, title):
        from qml.training.plots import plot_losses

        out_dir = Path(out_dir)
        tok = self.data.tokenizer
        if isinstance(tok, QasmTokenizer):
            tok.save(out_dir / "tokenizer.json")
        else:
            tok.save_pretrained(out_dir / "tokenizer")
        plot_losses(
            {"train": history["train_loss"], "validation": history["val_loss"]}, out_dir / "curves.png", title
        )
        val = self.mean_loss(model, self.data.val_ids, self.data.val_labels)
        return {
            **self.grammar_summary(model),
            "val_loss": val,
            "val_perplexity": math.exp(val) if val == val else float("nan"),
            "model_shape": model.describe(),
            **self.record,
        }


class LLMCircuitsTask(Task):
    name = "llm-circuits"
    kind = "QASM corpus"
    metric = "val_perplexity"
    metric_label = "validation perplexity of the answers"
    description = "fine-tune a causal LM on (paper prompt, optimised QAOA/VQE circuit) records (Agent-Q)"

    def datasets(self) -> tuple[str, ...]:
        return (DATASET,)

    def load(
        self,
        dataset,
        *,
        seed=0,
        subset=None,
        test_subset=None,
        data_root=None,
        base: str | None = None,
        vocab_size: int = 2000,
        block: int = 768,
        val_fraction: float = 0.1,
        index_tokens: bool = False,
        angle_tokens: bool = False,
        angle_decimals: int | None = None,
        grammar_weight: float = 0.0,
        init: str | None = None,
        rollouts: int = 0,
        replay: int | None = None,
        rollout_seed: int = 0,
    ) -> Prepared:
        path, records = load_records(data_root)
        if not 0 <= val_fraction < 1:
            raise ConfigurationError(f"val_fraction must be in [0, 1), got {val_fraction}")
        _check_on_policy(init, rollouts, replay, base, block)
        train, val = split_records(records, val_fraction, seed)
        if subset:
            train = train[:subset]
        if angle_decimals is not None:  # every answer's angles to one digit count
            if not 1 <= angle_decimals <= 8:
                raise ConfigurationError(
                    f"angle_decimals must be 1..8 (the grammar's limit), got {angle_decimals}"
                )
            train, val = (
                [{**r, "qasm": fixed_decimals(r["qasm"], angle_decimals)} for r in rs] for rs in (train, val)
            )
        if init is not None:
            tokenizer = QasmTokenizer.load(Path(init) / "tokenizer.json")
        elif base is None:
            texts = [t for r in train for t in (*prompt_pieces(chat_prompt(r)), r["qasm"])]
            tokenizer = train_tokenizer(
                texts, vocab_size, index_tokens=index_tokens, angle_tokens=angle_tokens
            )
        else:
            from .causal_lm import load_tokenizer

            tokenizer = load_tokenizer(base)
        if grammar_weight < 0 or (grammar_weight and base is not None):
            raise ConfigurationError(
                f"grammar_weight must be >= 0 and needs the from-scratch tokenizer (no base);"
                f" got {grammar_weight}"
            )
        enc = Encoder(tokenizer)
        kept_train: list[dict] = []
        kept_val: list[dict] = []
        train_ids, train_labels, long_train = encode(train, enc, block, kept_train)
        val_ids, val_labels, long_val = encode(val, enc, block, kept_val)
        if len(train_ids) == 0:
            raise ConfigurationError(f"no training record fits in block={block} tokens; raise -D block")
        train_starts, train_qubits = answer_starts(train_labels), [int(r["n_qubits"]) for r in kept_train]
        flags, avoid, on_policy_info = None, None, {}
        if rollouts:
            train_ids, train_labels, train_starts, train_qubits, flags, avoid, on_policy_info = (
                _with_rollouts(
                    train_ids,
                    train_labels,
                    train_starts,
                    train_qubits,
                    kept_train,
                    init,
                    rollouts,
                    replay,
                    rollout_seed,
                    block,
                )
            )
        data = SFTData(
            train_ids,
            train_labels,
            val_ids,
            val_labels,
            tokenizer,
            grammar_weight,
            init=init,
            train_avoid=avoid,
        )
        if grammar_weight:
            data.train_masks = grammar_masks(
                train_ids, train_starts, train_qubits, tokenizer, enc.eos_id, flags, progress=True
            )
            val_qubits = [int(r["n_qubits"]) for r in kept_val]
            data.val_masks = grammar_masks(
                val_ids, answer_starts(val_labels), val_qubits, tokenizer, enc.eos_id, progress=True
            )
            if rollouts:
                on_policy_info["rollouts"]["strayed"] = data.train_masks.strayed
        vocab = tokenizer.vocab_size if base is None else len(tokenizer)
        dims = {"vocab_size": vocab, "eos_id": enc.eos_id, "pad_id": enc.pad_id, "block": block, "base": base}
        record = {
            "records": str(path),
            "n_records": {"train": len(train_ids), "val": len(val_ids)},
            "too_long": {"train": long_train, "val": long_val},
            "val_graphs": sorted({graph_key(r) for r in val}),
            **({"on_policy": on_policy_info} if on_policy_info else {}),
            **({"init": str(init)} if init else {}),
        }
        return Prepared(data, dims=dims, record=record)

    def fit(self, model, prepared: Prepared, config, *, resume: bool, **kwargs) -> dict[str, Any]:
        """The shared loop, started from the weights of the ``init`` run when one is given."""
        init = prepared.train.init
        if init is not None and not resume:
            from qml.training.runs import load_torch

            try:
                model.load_state_dict(load_torch(Path(init) / "model.pt", config.device, "weights"))
            except RuntimeError as exc:
                raise ConfigurationError(
                    f"the model options differ from those of the init run {init}: "
                    f"{str(exc).splitlines()[0]}; give the same size, layers and width"
                ) from None
        return super().fit(model, prepared, config, resume=resume, **kwargs)

    def hooks(self, prepared: Prepared, config) -> SFTHooks:
        summary = {k: v for k, v in prepared.record.items() if k != "val_graphs"}
        return SFTHooks(prepared.train, config, summary)

    def headline(self, metrics: dict[str, Any]) -> str:
        return (
            f"validation perplexity of the answers: {metrics['val_perplexity']:.3f} "
            f"({metrics['n_parameters']} parameters, {metrics['seconds_per_epoch']:.1f} s/epoch)"
        )


def build_llm(dims: dict[str, Any], *, engine: str = "torch", size: str = "small", **options: Any):
    """GPT-2 from scratch of preset ``size`` (context: the task's ``block``), or the pretrained
    causal LM of the data option ``base`` (``engine`` is unused: no quantum layer)."""
    if dims.get("base"):
        from .causal_lm import PretrainedLM

        return PretrainedLM(dims["base"], dims["eos_id"], dims["pad_id"])
    options.setdefault("n_positions", dims["block"])
    return CircuitLM(dims["vocab_size"], size, dims["eos_id"], dims["pad_id"], **options)


register_task(LLMCircuitsTask())
register_model(
    "llm-circuits",
    tasks=("llm-circuits",),
    description="Agent-Q: a causal LM fine-tuned to write optimised QAOA/VQE circuits in OpenQASM 3",
    quantum=False,
    defaults={**LM_TRAINING, "epochs": 10},
    presets={DATASET: {"options": {"size": "small"}, "data": {"vocab_size": 2000, "block": 768}}},
    cli_options={"size": (str, "model size: tiny, small (default) or paper", "size")},
    build=build_llm,
)
