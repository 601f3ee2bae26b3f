"""Fold 3: the structure of circuits (Bandic et al.'s characterisation) and how far apart the
distributions of two sets of circuits are (Wasserstein distance per metric).

Per circuit: qubits, gates, two-qubit share, depth, gate density (gates per qubit per layer), and
on the interaction graph (qubits as nodes, an edge per pair that shares a gate; ``networkx``) the
average and largest degree, the average shortest path length and diameter (of the largest
connected component) and the average clustering coefficient.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["METRICS", "MATCHED", "distances", "metrics", "plot_metrics"]

METRICS = (
    "qubits",
    "gates",
    "two_qubit_share",
    "depth",
    "gate_density",
    "avg_degree",
    "max_degree",
    "avg_path_length",
    "clustering",
    "diameter",
)
#: metrics the random baseline copies from the circuits it is matched to
MATCHED = ("qubits", "gates")


def metrics(circuit, gates: list[tuple[str, tuple[int, ...]]] | None = None) -> dict[str, float]:
    """The structure metrics of one circuit (barriers and measurements not counted)."""
    import networkx as nx

    from ..qasm_text import gate_sequence

    gates = gate_sequence(circuit) if gates is None else gates
    n = circuit.num_qubits
    layer = [0] * max(n, 1)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    two = 0
    for _, qs in gates:
        level = 1 + max(layer[q] for q in qs)
        for q in qs:
            layer[q] = level
        if len(qs) >= 2:
            two += 1
        for i in range(len(qs)):
            for j in range(i + 1, len(qs)):
                graph.add_edge(qs[i], qs[j])
    depth = max(layer) if gates else 0
    degrees = [d for _, d in graph.degree()] or [0]
    path = diameter = 0.0
    if graph.number_of_edges():
        component = graph.subgraph(max(nx.connected_components(graph), key=len))
        path = nx.average_shortest_path_length(component)
        diameter = nx.diameter(component)
    return {
        "qubits": float(n),
        "gates": float(len(gates)),
        "two_qubit_share": two / len(gates) if gates else 0.0,
        "depth": float(depth),
        "gate_density": len(gates) / (depth * n) if depth and n else 0.0,
        "avg_degree": sum(degrees) / len(degrees),
        "max_degree": float(max(degrees)),
        "avg_path_length": float(path),
        "clustering": float(nx.average_clustering(graph)) if n else 0.0,
        "diameter": float(diameter),
    }


def distances(reference: list[dict], other: list[dict]) -> dict[str, float]:
    """Wasserstein-1 distance per metric between two sets of circuits, divided by the reference's
    standard deviation (1 when it is 0) so the metrics share a scale."""
    import numpy as np
    from scipy.stats import wasserstein_distance

    out = {}
    for m in METRICS:
        a = np.array([r[m] for r in reference], dtype=float)
        b = np.array([r[m] for r in other], dtype=float)
        if len(a) == 0 or len(b) == 0:
            out[m] = float("nan")
            continue
        scale = float(a.std()) or 1.0
        out[m] = float(wasserstein_distance(a, b) / scale)
    return out


def plot_metrics(sets: dict[str, list[dict]], path: str | Path, title: str = "") -> Path:
    """Histograms of every metric, one colour per set (e.g. real, given, random)."""
    import numpy as np
    from matplotlib.figure import Figure

    fig = Figure(figsize=(15, 6))
    axes = fig.subplots(2, 5).ravel()
    for ax, m in zip(axes, METRICS, strict=True):
        values = [np.array([r[m] for r in rows], dtype=float) for rows in sets.values()]
        finite = np.concatenate([v for v in values if len(v)]) if any(len(v) for v in values) else np.zeros(1)
        bins = np.histogram_bin_edges(finite, bins=20)
        for (label, _), v in zip(sets.items(), values, strict=True):
            if len(v):
                ax.hist(v, bins=bins, alpha=0.45, density=True, label=label)
        ax.set_title(m, fontsize=9)
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return Path(path)
