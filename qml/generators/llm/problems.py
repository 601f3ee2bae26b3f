"""The Agent-Q paper's graph problems as QUBO/HUBO cost Hamiltonians on small random graphs.

Each problem turns a networkx graph (nodes ``0..n-1``, optional edge ``weight``) into a binary
polynomial over its variables, minimised by the problem's optimum (penalty formulations follow
Lucas, "Ising formulations of many NP problems", 2014), then into a diagonal ``SparsePauliOp``.
Variable ``i`` is qubit ``i`` (qubit 0 the right-most character of a bitstring). The penalty
weights are in ``Instance.options`` so a reader can recompute any bitstring's cost. Max-flow
(unit capacities) is a QUBO over edge directions; the Steiner tree is a HUBO over the choice of
Steiner nodes, the exact multilinear expansion of "weight of the minimum spanning tree of the
terminals and the chosen nodes, or a penalty if they are not connected".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import networkx as nx
import numpy as np
from qiskit.quantum_info import SparsePauliOp

from circuits.errors import ConfigurationError, UnknownNameError

from .hamiltonians import (
    QUBIT_LIMIT,
    Exact,
    Poly,
    add,
    check_qubits,
    const,
    exact_optimum,
    mul,
    poly_to_pauli,
    scale,
    var,
)

__all__ = ["PROBLEMS", "Instance", "bits", "build", "random_graph", "random_instance"]


def bits(bitstring: str) -> list[int]:
    """The 0/1 value of each qubit (index ``i`` is qubit ``i``, the ``i``-th character from the right)."""
    return [int(c) for c in reversed(bitstring)]


@dataclass
class Instance:
    """One problem on one graph: its variables, its polynomial and its cost Hamiltonian."""

    problem: str
    graph: nx.Graph
    variables: list[Any]
    options: dict[str, Any]
    polynomial: Poly
    hamiltonian: SparsePauliOp
    _exact: Exact | None = field(default=None, repr=False)

    @property
    def n_qubits(self) -> int:
        return len(self.variables)

    def exact(self) -> Exact:
        """The exact optimum (energy and every optimal bitstring), by diagonalisation; cached."""
        if self._exact is None:
            self._exact = exact_optimum(self.hamiltonian)
        return self._exact

    def decode(self, bitstring: str) -> Any:
        """The problem-level reading of ``bitstring`` (a node set, an edge set, a colouring, ...)."""
        return PROBLEMS[self.problem].decode(self, bits(bitstring))

    def graph_json(self) -> dict:
        return nx.node_link_data(self.graph, edges="edges")


def _spin(i: int) -> Poly:  # Z_i = 1 - 2 x_i
    return {(): 1.0, (i,): -2.0}


def _square(p: Poly) -> Poly:
    return mul(p, p)


def _one_minus(p: Poly) -> Poly:
    return add(const(1.0), p, scale=[1.0, -1.0])


def _w(g: nx.Graph, u: int, v: int) -> float:
    return float(g.edges[u, v].get("weight", 1.0))


def _edges(g: nx.Graph) -> list[tuple[int, int]]:
    return [tuple(sorted(e)) for e in g.edges()]


def _cut(u: int, v: int) -> Poly:  # x_u XOR x_v
    return {(u,): 1.0, (v,): 1.0, (u, v): -2.0}


# --- formulations: graph, options -> (variables, polynomial, options) -------------------------


def _maxcut(g, opts):
    poly = add(*[scale(_cut(u, v), -_w(g, u, v)) for u, v in _edges(g)])
    return list(g.nodes), poly, {}


def _mincut(g, opts):
    s, t = int(opts.get("source", 0)), int(opts.get("sink", g.number_of_nodes() - 1))
    if s == t or s not in g or t not in g:
        raise ConfigurationError(
            f"min-cut needs distinct source and sink nodes of the graph, got {s} and {t}"
        )
    penalty = float(opts.get("penalty", sum(_w(g, u, v) for u, v in g.edges()) + 1.0))
    # x_v = 1: v on the sink side; the source must be 0 and the sink 1
    poly = add(
        *[scale(_cut(u, v), _w(g, u, v)) for u, v in _edges(g)],
        scale(var(s), penalty),
        scale(_one_minus(var(t)), penalty),
    )
    return list(g.nodes), poly, {"source": s, "sink": t, "penalty": penalty}


def _vertex_cover(g, opts):
    p = float(opts.get("penalty", 2.0))
    poly = add(
        *[var(v) for v in g.nodes],
        *[scale(mul(_one_minus(var(u)), _one_minus(var(v))), p) for u, v in _edges(g)],
    )
    return list(g.nodes), poly, {"penalty": p}


def _edge_cover(g, opts):
    if any(d == 0 for _, d in g.degree()):
        raise ConfigurationError("edge cover needs a graph without isolated nodes")
    p = float(opts.get("penalty", 2.0))
    edges = _edges(g)
    parts = [var(i) for i in range(len(edges))]
    for v in g.nodes:
        uncovered = const(1.0)
        for i, e in enumerate(edges):
            if v in e:
                uncovered = mul(uncovered, _one_minus(var(i)))
        parts.append(scale(uncovered, p))
    return edges, add(*parts), {"penalty": p}


def _matching(g, opts):
    p = float(opts.get("penalty", 2.0))
    edges = _edges(g)
    parts = [scale(var(i), -1.0) for i in range(len(edges))]
    for v in g.nodes:
        at = [i for i, e in enumerate(edges) if v in e]
        parts += [scale(mul(var(i), var(j)), p) for i, j in combinations(at, 2)]
    return edges, add(*parts), {"penalty": p}


def _colouring(g, opts):
    k = int(opts.get("colours", 3))
    p = float(opts.get("penalty", 1.0))
    n = g.number_of_nodes()
    idx = {(v, c): v * k + c for v in range(n) for c in range(k)}
    parts = [scale(_square(_one_minus(add(*[var(idx[v, c]) for c in range(k)]))), p) for v in range(n)]
    parts += [mul(var(idx[u, c]), var(idx[v, c])) for u, v in _edges(g) for c in range(k)]
    return [(v, c) for v in range(n) for c in range(k)], add(*parts), {"colours": k, "penalty": p}


def _kclique(g, opts):
    k = int(opts.get("k", 3))
    b = 1.0
    a = float(opts.get("penalty", (k + 1) * b))  # a > k b makes a wrong node count never pay
    size = add(const(k), *[scale(var(v), -1.0) for v in g.nodes])
    edges = add(const(k * (k - 1) / 2), *[scale(mul(var(u), var(v)), -1.0) for u, v in _edges(g)])
    return list(g.nodes), add(scale(_square(size), a), scale(edges, b)), {"k": k, "penalty": a}


def _hypermaxcut(g, opts):
    hyper = [tuple(sorted(int(v) for v in e)) for e in g.graph.get("hyperedges", _edges(g))]
    parts = []
    for e in hyper:  # cut unless all on one side: 1 - prod x - prod (1 - x)
        all1, all0 = const(1.0), const(1.0)
        for v in e:
            all1, all0 = mul(all1, var(v)), mul(all0, _one_minus(var(v)))
        parts.append(scale(add(const(1.0), all1, all0, scale=[1.0, -1.0, -1.0]), -1.0))
    return list(g.nodes), add(*parts), {"hyperedges": [list(e) for e in hyper]}


def _community(g, opts):
    m = g.number_of_edges()
    deg = dict(g.degree())
    parts = []
    for i, j in combinations(sorted(g.nodes), 2):  # -Q = -(1/4m) sum_ij B_ij s_i s_j, B = A - k k^T / 2m
        b = (1.0 if g.has_edge(i, j) else 0.0) - deg[i] * deg[j] / (2 * m)
        parts.append(scale(mul(_spin(i), _spin(j)), -2 * b / (4 * m)))
    parts.append(const(-sum(-(deg[i] ** 2) / (2 * m) for i in g.nodes) / (4 * m)))
    return list(g.nodes), add(*parts), {}


def _one_hot_rows_cols(n: int) -> list[Poly]:
    x = lambda v, i: var(v * n + i)  # noqa: E731
    rows = [_square(_one_minus(add(*[x(v, i) for i in range(n)]))) for v in range(n)]
    cols = [_square(_one_minus(add(*[x(v, i) for v in range(n)]))) for i in range(n)]
    return rows + cols


def _isomorphism(g, opts):
    n = g.number_of_nodes()
    h = nx.Graph(g.graph.get("other", []))
    h.add_nodes_from(range(n))
    if h.number_of_nodes() != n:
        raise ConfigurationError("graph isomorphism needs graph.graph['other'] on the same node count")
    a = float(opts.get("penalty", 1.0))
    parts = [scale(p, a) for p in _one_hot_rows_cols(n)]
    for u, v in combinations(range(n), 2):  # u->i, v->j must keep edge / non-edge
        for i, j in ((i, j) for i in range(n) for j in range(n) if i != j):
            if g.has_edge(u, v) != h.has_edge(i, j):
                parts.append(mul(var(u * n + i), var(v * n + j)))
    return [(v, i) for v in range(n) for i in range(n)], add(*parts), {"penalty": a, "other": _edges(h)}


def _hamiltonian_path(g, opts):
    n = g.number_of_nodes()
    a = float(opts.get("penalty", 1.0))
    parts = [scale(p, a) for p in _one_hot_rows_cols(n)]
    for u, v in combinations(range(n), 2):
        if not g.has_edge(u, v):
            for j in range(n - 1):
                parts.append(mul(var(u * n + j), var(v * n + j + 1)))
                parts.append(mul(var(v * n + j), var(u * n + j + 1)))
    return [(v, j) for v in range(n) for j in range(n)], add(*parts), {"penalty": a}


def _component(g, opts):
    f = int(opts.get("node", 0))
    if f not in g:
        raise ConfigurationError(f"connected components: node {f} is not in the graph")
    # (deg(v) x_v - sum_{u ~ v} x_u)^2 = 0 makes a node and its neighbours agree; w sum x_v keeps the
    # rest 0; x_f = 1 is substituted, so the other nodes are the variables. The paper's QUBO has
    # w = 1, which ties partial components with the component; w = 1 / (n + 1) < any violation.
    w = float(opts.get("size_weight", 1.0 / (g.number_of_nodes() + 1)))
    parts = [
        _square(add(scale(var(v), len(g.adj[v])), *[scale(var(u), -1.0) for u in g.adj[v]]))
        for v in g.nodes
        if len(g.adj[v])
    ]
    poly = add(*parts, *[scale(var(v), w) for v in g.nodes])
    others = [v for v in sorted(g.nodes) if v != f]
    pos = {v: i for i, v in enumerate(others)}
    fixed: Poly = {}
    for key, c in poly.items():
        k = tuple(pos[v] for v in key if v != f)
        fixed[k] = fixed.get(k, 0.0) + c
    return others, {k: c for k, c in fixed.items() if c != 0.0}, {"node": f, "size_weight": w}


def _maxflow(g, opts):
    s, t = int(opts.get("source", 0)), int(opts.get("sink", g.number_of_nodes() - 1))
    if s == t or s not in g or t not in g:
        raise ConfigurationError(
            f"max-flow needs distinct source and sink nodes of the graph, got {s} and {t}"
        )
    # unit capacities: a bit per edge direction, x_(u,v) = 1 sends one unit from u to v. The
    # penalty a = m + 1 exceeds any flow value, so breaking conservation or using both directions
    # of an edge never pays; the cost is -(net flow out of the source).
    arcs = [a for u, v in _edges(g) for a in ((u, v), (v, u))]
    a = float(opts.get("penalty", g.number_of_edges() + 1))

    def net(v: int) -> Poly:  # units leaving v minus units entering it
        return add(*[scale(var(i), 1.0 if x == v else -1.0) for i, (x, y) in enumerate(arcs) if v in (x, y)])

    parts = [scale(net(s), -1.0)]
    parts += [scale(_square(net(v)), a) for v in g.nodes if v not in (s, t) and len(g.adj[v])]
    parts += [scale(mul(var(2 * k), var(2 * k + 1)), a) for k in range(len(arcs) // 2)]
    return arcs, add(*parts), {"source": s, "sink": t, "penalty": a}


def _moebius(f: Callable[[frozenset], float], k: int) -> Poly:
    """The multilinear polynomial over ``k`` bits equal to ``f(set of bits that are 1)`` everywhere."""
    values = np.array([f(frozenset(i for i in range(k) if b >> i & 1)) for b in range(2**k)], dtype=float)
    for i in range(k):  # in-place Moebius transform: c_A = sum_{B <= A} (-1)^{|A - B|} f(B)
        step = 1 << i
        for b in range(2**k):
            if b & step:
                values[b] -= values[b ^ step]
    return {
        tuple(i for i in range(k) if b >> i & 1): float(c) for b, c in enumerate(values) if abs(c) > 1e-12
    }


def _steiner(g, opts):
    n = g.number_of_nodes()
    terminals = sorted(int(v) for v in opts.get("terminals", g.graph.get("terminals", range(min(3, n)))))
    if len(terminals) < 2 or any(v not in g for v in terminals):
        raise ConfigurationError(
            f"steiner tree needs at least 2 terminal nodes of the graph, got {terminals}"
        )
    others = [v for v in sorted(g.nodes) if v not in terminals]
    total = sum(_w(g, u, v) for u, v in g.edges())
    a = float(opts.get("penalty", total + 1.0))

    def cost(chosen: frozenset) -> float:  # a bit per non-terminal node: is it a Steiner node?
        sub = g.subgraph([*terminals, *(others[i] for i in chosen)])
        if not nx.is_connected(sub):
            return a
        tree = nx.minimum_spanning_tree(sub, weight="weight")
        return float(sum(_w(g, u, v) for u, v in tree.edges()))

    # the least-weight tree over T + S is the MST of the subgraph they induce, so min over S of
    # this cost is the Steiner tree's weight; the HUBO is its exact multilinear expansion
    return others, _moebius(cost, len(others)), {"terminals": terminals, "penalty": a}


# --- decoders: instance, bit values -> solution ------------------------------------------------


def _node_set(inst, x):
    return {v for v, b in zip(inst.variables, x, strict=True) if b}


def _edge_set(inst, x):
    return {e for e, b in zip(inst.variables, x, strict=True) if b}


def _component_nodes(inst, x):
    return _node_set(inst, x) | {inst.options["node"]}


def _arc_set(inst, x):
    return {a for a, b in zip(inst.variables, x, strict=True) if b}


def _steiner_nodes(inst, x):
    return _node_set(inst, x) | set(inst.options["terminals"])


def _assignment(inst, x):  # (v, c) pairs set -> {v: [c, ...]}
    out: dict[int, list[int]] = {}
    for (v, c), b in zip(inst.variables, x, strict=True):
        if b:
            out.setdefault(v, []).append(c)
    return out


# --- random graphs -----------------------------------------------------------------------------


def _gnp(n: int, rng: np.random.Generator, p: float = 0.5) -> nx.Graph:
    g = nx.gnp_random_graph(n, p, seed=int(rng.integers(2**31)))
    return g


def _connected(n, rng):
    while True:
        g = _gnp(n, rng)
        if nx.is_connected(g):
            return g


def _weighted(n, rng):
    g = _connected(n, rng)
    for u, v in g.edges():
        g.edges[u, v]["weight"] = int(rng.integers(1, 4))
    return g


def _sparse(n, rng):  # often several components
    while True:
        g = _gnp(n, rng, p=0.3)
        if g.number_of_edges():
            return g


def _few_edges(n, rng):  # an edge per qubit: keep the edge count within the limit
    for _ in range(1000):
        g = _gnp(n, rng, p=min(0.6, 2.5 / max(n - 1, 1)))
        if g.number_of_edges() and all(d > 0 for _, d in g.degree()) and g.number_of_edges() <= QUBIT_LIMIT:
            return g
    check_qubits((n + 1) // 2, f"an edge problem on {n} nodes")  # an edge per qubit, none isolated
    raise ConfigurationError(
        f"no random graph on {n} nodes without isolated nodes fit the limit of {QUBIT_LIMIT} qubits "
        "(one per edge) in 1000 draws; use fewer nodes"
    )


def _flow_graph(n, rng):  # two qubits per edge
    for _ in range(1000):
        g = _gnp(n, rng, p=min(0.6, 2.0 / max(n - 1, 1)))
        if nx.is_connected(g) and 2 * g.number_of_edges() <= QUBIT_LIMIT:
            return g
    check_qubits(2 * (n - 1), f"max-flow on {n} nodes")  # a spanning tree's arcs
    raise ConfigurationError(
        f"no connected random graph on {n} nodes fit the limit of {QUBIT_LIMIT} qubits "
        "(two per edge) in 1000 draws; use fewer nodes"
    )


def _steiner_graph(n, rng):  # weighted, connected, three terminals drawn at random
    g = _weighted(n, rng)
    g.graph["terminals"] = sorted(int(v) for v in rng.choice(n, size=min(3, n), replace=False))
    return g


def _hyper(n, rng):
    g = nx.empty_graph(n)
    m = int(rng.integers(n // 2 + 1, n + 2))
    g.graph["hyperedges"] = [
        sorted(int(v) for v in rng.choice(n, size=int(rng.integers(2, 4)), replace=False)) for _ in range(m)
    ]
    return g


def _pair(n, rng):
    g = _gnp(n, rng)
    if rng.random() < 0.5:  # half the pairs isomorphic
        perm = rng.permutation(n)
        other = [tuple(sorted((int(perm[u]), int(perm[v])))) for u, v in g.edges()]
    else:
        other = list(_gnp(n, rng).edges())
    g.graph["other"] = [list(e) for e in other]
    return g


@dataclass(frozen=True)
class Problem:
    """A registered problem: its formulation, decoder and random graph maker."""

    formulate: Callable[[nx.Graph, dict], tuple[list, Poly, dict]]
    decode: Callable[[Instance, list[int]], Any]
    graph: Callable[[int, np.random.Generator], nx.Graph]


PROBLEMS: dict[str, Problem] = {
    "maxcut": Problem(_maxcut, _node_set, _connected),
    "min-cut": Problem(_mincut, _node_set, _weighted),
    "vertex-cover": Problem(_vertex_cover, _node_set, _connected),
    "edge-cover": Problem(_edge_cover, _edge_set, _few_edges),
    "matching": Problem(_matching, _edge_set, _few_edges),
    "graph-coloring": Problem(_colouring, _assignment, _connected),
    "kclique": Problem(_kclique, _node_set, _connected),
    "hypermaxcut": Problem(_hypermaxcut, _node_set, _hyper),
    "community-detection": Problem(_community, _node_set, _connected),
    "graph-isomorphism": Problem(_isomorphism, _assignment, _pair),
    "hamiltonian-path": Problem(_hamiltonian_path, _assignment, _connected),
    "connected-components": Problem(_component, _component_nodes, _sparse),
    "max-flow": Problem(_maxflow, _arc_set, _flow_graph),
    "steiner-tree": Problem(_steiner, _steiner_nodes, _steiner_graph),
}


def _problem(name: str) -> Problem:
    if name not in PROBLEMS:
        raise UnknownNameError(f"unknown problem {name!r}; known problems: {', '.join(sorted(PROBLEMS))}")
    return PROBLEMS[name]


def _qubits_needed(name: str, g: nx.Graph, opts: dict) -> int:
    n, m = g.number_of_nodes(), g.number_of_edges()
    return {
        "edge-cover": m,
        "matching": m,
        "graph-coloring": n * int(opts.get("colours", 3)),
        "graph-isomorphism": n * n,
        "hamiltonian-path": n * n,
        "connected-components": n - 1,
        "max-flow": 2 * m,
        "steiner-tree": n - len(opts.get("terminals", g.graph.get("terminals", range(min(3, n))))),
    }.get(name, n)


def _check_graph(problem: str, graph: nx.Graph) -> None:
    """A clear error for a graph the formulations cannot take (they assume a simple graph)."""
    if graph.is_directed() or graph.is_multigraph():
        kind = "directed graph" if graph.is_directed() else "multigraph"
        raise ConfigurationError(f"{problem} takes a simple undirected graph, got a {kind}")
    if sorted(graph.nodes) != list(range(graph.number_of_nodes())):
        raise ConfigurationError(
            "the graph's nodes must be the integers 0..n-1 (nx.convert_node_labels_to_integers)"
        )
    loops = sorted(v for v, _ in nx.selfloop_edges(graph))
    if loops:
        raise ConfigurationError(f"{problem} takes a graph without self-loops; nodes {loops} have one")
    for u, v, w in graph.edges(data="weight", default=1.0):
        if isinstance(w, bool) or not isinstance(w, (int, float, np.number)) or not np.isfinite(w):
            raise ConfigurationError(f"the weight of edge ({u}, {v}) must be a finite number, got {w!r}")
    n = graph.number_of_nodes()
    for name in ("hyperedges", "other", "terminals"):
        items = graph.graph.get(name, [])
        used = [v for e in items for v in (e if isinstance(e, (list, tuple)) else [e])]
        bad = [v for v in used if not isinstance(v, (int, np.integer)) or not 0 <= v < n]
        if bad:
            raise ConfigurationError(f"graph attribute {name!r} names nodes outside 0..{n - 1}: {bad[:5]}")
    if problem == "community-detection" and graph.number_of_edges() == 0:
        raise ConfigurationError("community detection needs a graph with an edge (modularity is 0/0)")


def build(problem: str, graph: nx.Graph, **options: Any) -> Instance:
    """The ``problem`` on ``graph`` (nodes must be ``0..n-1``) as an :class:`Instance`.

    Raises ``UnknownNameError`` for an unknown problem and ``ConfigurationError`` for a graph that
    is not simple and undirected (self-loops, bad weights, attributes naming missing nodes) or an
    instance that needs more than ``QUBIT_LIMIT`` (16) qubits.
    """
    spec = _problem(problem)
    _check_graph(problem, graph)
    check_qubits(_qubits_needed(problem, graph, options), f"{problem} on {graph.number_of_nodes()} nodes")
    variables, poly, opts = spec.formulate(graph, dict(options))
    check_qubits(len(variables), f"{problem} on {graph.number_of_nodes()} nodes")
    return Instance(problem, graph, variables, opts, poly, poly_to_pauli(poly, len(variables)))


def random_graph(problem: str, n_nodes: int, seed: int | np.random.Generator) -> nx.Graph:
    """A random graph (G(n, p) kept connected, or what the problem needs) for ``problem``."""
    spec = _problem(problem)
    if n_nodes < 2:
        raise ConfigurationError(f"random graphs need at least 2 nodes, got {n_nodes}")
    return spec.graph(n_nodes, np.random.default_rng(seed))


def random_instance(problem: str, n_nodes: int, seed: int, **options: Any) -> Instance:
    """:func:`build` on :func:`random_graph` (reproducible from ``seed``)."""
    return build(problem, random_graph(problem, n_nodes, seed), **options)
