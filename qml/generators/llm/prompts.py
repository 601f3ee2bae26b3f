"""The paper's prompt: its system prompt and user prompt (``generate_samples.py`` of Agent-Q's
repository), rendered with a causal LM's chat template where it has one, else as ChatML (the
template of the paper's Qwen models), so a model trained from scratch sees the same text.

The assistant's answer is the record's OpenQASM 3 text; training masks everything before it
(completion-only loss).
"""

from __future__ import annotations

import json

__all__ = ["SYSTEM_PROMPT", "chat_prompt", "graph_text", "user_prompt"]

#: the paper's system prompt, word for word
SYSTEM_PROMPT = (
    "You are a helpful quantum circuit design assistant. "
    "Provide a quantum circuit in valid QASM 3.0 code with optimal gate parameters so that the output "
    "state encodes the solution, ensuring that the measurement outcomes have a high probability of "
    "reflecting the correct answer."
)


def graph_text(record: dict) -> str:
    """The record's graph as compact JSON: nodes, edges (with weights where they are not 1) and
    the graph attributes a problem reads (hyperedges, terminals, the second graph of a pair)."""
    edges = []
    for e in record["graph"]["edges"]:
        w = e.get("weight", 1)
        edges.append([e["source"], e["target"]] + ([w] if w != 1 else []))
    return json.dumps(
        {
            "nodes": [n["id"] for n in record["graph"]["nodes"]],
            "edges": edges,
            **record["graph"].get("graph", {}),
        },
        separators=(",", ":"),
    )


def user_prompt(record: dict) -> str:
    """The paper's user prompt for a record; ``attrs`` are the record's scalar options (source,
    sink, k, ...), as the paper's ``problem_specific_attributes``."""
    attrs = ", ".join(
        f"{k} {v}" for k, v in sorted(record.get("options", {}).items()) if not isinstance(v, (list, dict))
    )
    return (
        f"Your task is to generate a quantum circuit in QASM 3.0 with {record['n_qubits']} qubits and "
        f"{record['layers']} layers with optimal parameters that solves the {record['problem']} "
        f"{'(' + attrs + ') ' if attrs else ''}problem for the following graph: {graph_text(record)}. "
        "Then ensure that the final answer is correct and in valid QASM 3.0 code."
        "Only return the full QASM code, nothing else."
    )


def chat_prompt(record: dict, tokenizer=None) -> str:
    """System and user prompt with the generation prompt: ``tokenizer``'s chat template when it
    has one (a pretrained instruct model), else ChatML written out."""
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": user_prompt(record)},
    ]
    if tokenizer is not None and getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages) + (
        "<|im_start|>assistant\n"
    )
