"""Each problem's Hamiltonian against its cost written directly from the graph, on every bitstring,
and the optimum bitstrings against graph-theoretic solutions found independently."""

from __future__ import annotations

from itertools import combinations, permutations, product

import networkx as nx
import numpy as np
import pytest

from circuits.errors import ConfigurationError, UnknownNameError
from qml.generators.llm.hamiltonians import diagonal
from qml.generators.llm.problems import PROBLEMS, build, random_instance


def all_bits(n):
    """(2**n, n) 0/1 array: row b holds bit i of b in column i (qubit i)."""
    b = np.arange(2**n)[:, None]
    return (b >> np.arange(n)) & 1


def w(g, u, v):
    return g.edges[u, v].get("weight", 1)


def cost_maxcut(inst, x):
    return -sum(w(inst.graph, u, v) * (x[:, u] != x[:, v]) for u, v in inst.graph.edges())


def cost_mincut(inst, x):
    g, o = inst.graph, inst.options
    cut = sum(w(g, u, v) * (x[:, u] != x[:, v]) for u, v in g.edges())
    return cut + o["penalty"] * x[:, o["source"]] + o["penalty"] * (1 - x[:, o["sink"]])


def cost_vertex_cover(inst, x):
    uncovered = sum((x[:, u] == 0) & (x[:, v] == 0) for u, v in inst.graph.edges())
    return x.sum(1) + inst.options["penalty"] * uncovered


def cost_edge_cover(inst, x):
    edges = inst.variables
    uncovered = sum(np.all([x[:, i] == 0 for i, e in enumerate(edges) if v in e], axis=0) for v in inst.graph)
    return x.sum(1) + inst.options["penalty"] * uncovered


def cost_matching(inst, x):
    edges = inst.variables
    deg = [sum(x[:, i] for i, e in enumerate(edges) if v in e) for v in inst.graph]
    return -x.sum(1) + inst.options["penalty"] * sum(d * (d - 1) / 2 for d in deg)


def cost_colouring(inst, x):
    k = inst.options["colours"]
    c = x.reshape(len(x), -1, k)  # (N, node, colour)
    clashes = sum((c[:, u, :] & c[:, v, :]).sum(1) for u, v in inst.graph.edges())
    return inst.options["penalty"] * ((1 - c.sum(2)) ** 2).sum(1) + clashes


def cost_kclique(inst, x):
    k = inst.options["k"]
    inside = sum(x[:, u] * x[:, v] for u, v in inst.graph.edges())
    return inst.options["penalty"] * (k - x.sum(1)) ** 2 + k * (k - 1) / 2 - inside


def cost_hypermaxcut(inst, x):
    return -sum(x[:, e].min(1) != x[:, e].max(1) for e in inst.graph.graph["hyperedges"])


def cost_community(inst, x):
    g = inst.graph
    out = []
    for row in x:
        side = {v for v in g if row[v]}
        parts = [side, set(g) - side] if 0 < len(side) < len(g) else [set(g)]
        out.append(-nx.community.modularity(g, parts))
    return np.array(out)


def _perm_penalty(inst, x):
    n = inst.graph.number_of_nodes()
    m = x.reshape(len(x), n, n)
    return inst.options["penalty"] * (((1 - m.sum(2)) ** 2).sum(1) + ((1 - m.sum(1)) ** 2).sum(1)), m


def cost_isomorphism(inst, x):
    g, n = inst.graph, inst.graph.number_of_nodes()
    h = nx.Graph(inst.options["other"])
    pen, m = _perm_penalty(inst, x)
    bad = sum(
        m[:, u, i] * m[:, v, j]
        for u, v in combinations(range(n), 2)
        for i in range(n)
        for j in range(n)
        if i != j and g.has_edge(u, v) != h.has_edge(i, j)
    )
    return pen + bad


def cost_hamiltonian_path(inst, x):
    g, n = inst.graph, inst.graph.number_of_nodes()
    pen, m = _perm_penalty(inst, x)
    bad = sum(
        m[:, u, j] * m[:, v, j + 1]
        for u in range(n)
        for v in range(n)
        for j in range(n - 1)
        if u != v and not g.has_edge(u, v)
    )
    return pen + bad


def cost_component(inst, x):
    g, f = inst.graph, inst.options["node"]
    full = np.insert(x, f, 1, axis=1)  # the fixed node's bit back in its column
    agree = sum((len(g.adj[v]) * full[:, v] - sum(full[:, u] for u in g.adj[v])) ** 2 for v in g)
    return agree + inst.options["size_weight"] * full.sum(1)


def cost_maxflow(inst, x):
    o, arcs = inst.options, inst.variables
    net = {v: sum(x[:, i] * ((a == v) - (b == v)) for i, (a, b) in enumerate(arcs)) for v in inst.graph}
    broken = sum(net[v] ** 2 for v in inst.graph if v not in (o["source"], o["sink"]))
    both = sum(x[:, 2 * k] * x[:, 2 * k + 1] for k in range(len(arcs) // 2))
    return -net[o["source"]] + o["penalty"] * (broken + both)


def cost_steiner(inst, x):  # connected with the chosen nodes: weight of their lightest spanning tree
    g, terminals = inst.graph, inst.options["terminals"]
    out = []
    for row in x:
        nodes = set(terminals) | {v for v, b in zip(inst.variables, row, strict=True) if b}
        sub = g.subgraph(nodes)
        ok = nx.is_connected(sub)
        out.append(nx.minimum_spanning_tree(sub).size(weight="weight") if ok else inst.options["penalty"])
    return np.array(out)


COSTS = {
    "maxcut": cost_maxcut,
    "min-cut": cost_mincut,
    "vertex-cover": cost_vertex_cover,
    "edge-cover": cost_edge_cover,
    "matching": cost_matching,
    "graph-coloring": cost_colouring,
    "kclique": cost_kclique,
    "hypermaxcut": cost_hypermaxcut,
    "community-detection": cost_community,
    "graph-isomorphism": cost_isomorphism,
    "hamiltonian-path": cost_hamiltonian_path,
    "connected-components": cost_component,
    "max-flow": cost_maxflow,
    "steiner-tree": cost_steiner,
}
NODES = {
    "connected-components": 6,
    "graph-isomorphism": 4,
    "hamiltonian-path": 4,
    "community-detection": 5,
    "graph-coloring": 5,
}


def test_every_problem_has_an_independent_cost():
    assert set(COSTS) == set(PROBLEMS)


@pytest.mark.parametrize("problem", sorted(COSTS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hamiltonian_equals_brute_force_cost(problem, seed):
    n = NODES.get(problem, 3 + seed)
    inst = random_instance(problem, n, seed)
    x = all_bits(inst.n_qubits)
    np.testing.assert_allclose(diagonal(inst.hamiltonian), COSTS[problem](inst, x), atol=1e-9)
    assert all(set(p.to_label()) <= {"I", "Z"} for p in inst.hamiltonian.paulis)


def _best(n, score):  # brute-force the best subset score over all subsets of range(n)
    return max(score(set(s)) for r in range(n + 1) for s in combinations(range(n), r))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_optima_decode_to_valid_solutions(seed):
    n = 5
    # max-cut: a cut as large as any
    inst = random_instance("maxcut", n, seed)
    g = inst.graph
    for b in inst.exact().bitstrings:
        side = inst.decode(b)
        size = nx.cut_size(g, side) if 0 < len(side) < n else 0
        assert size == _best(n, lambda s: nx.cut_size(g, s) if 0 < len(s) < n else 0) == -inst.exact().energy
    # min-cut: networkx's max-flow value; source on the 0 side, sink on the 1 side
    inst = random_instance("min-cut", n, seed)
    assert inst.exact().energy == pytest.approx(nx.minimum_cut_value(inst.graph, 0, n - 1, capacity="weight"))
    for b in inst.exact().bitstrings:
        assert 0 not in inst.decode(b) and n - 1 in inst.decode(b)
    # vertex cover: covers every edge, as small as any cover
    inst = random_instance("vertex-cover", n, seed)
    g = inst.graph
    smallest = -_best(n, lambda s: -len(s) if all(u in s or v in s for u, v in g.edges()) else -99)
    for b in inst.exact().bitstrings:
        cover = inst.decode(b)
        assert all(u in cover or v in cover for u, v in g.edges()) and len(cover) == smallest
    # edge cover and matching: networkx's minimum edge cover / maximum matching sizes
    inst = random_instance("edge-cover", n, seed)
    for b in inst.exact().bitstrings:
        cover = inst.decode(b)
        assert {v for e in cover for v in e} == set(inst.graph) and len(cover) == len(
            nx.min_edge_cover(inst.graph)
        )
    inst = random_instance("matching", n, seed)
    best = len(nx.max_weight_matching(inst.graph, maxcardinality=True))
    for b in inst.exact().bitstrings:
        assert nx.is_matching(inst.graph, inst.decode(b)) and len(inst.decode(b)) == best
    # colouring: proper 3-colourings exactly when one exists
    inst = random_instance("graph-coloring", n, seed)
    g = inst.graph
    colourable = any(all(c[u] != c[v] for u, v in g.edges()) for c in product(range(3), repeat=n))
    assert (inst.exact().energy == 0) == colourable
    if colourable:
        for b in inst.exact().bitstrings:
            col = inst.decode(b)
            assert all(len(col[v]) == 1 for v in g) and all(col[u] != col[v] for u, v in g.edges())
    # k-clique: a 3-clique exactly when the clique number is >= 3
    inst = random_instance("kclique", n, seed)
    has = max(len(c) for c in nx.find_cliques(inst.graph)) >= 3
    assert (inst.exact().energy == 0) == has
    if has:
        for b in inst.exact().bitstrings:
            s = inst.decode(b)
            assert len(s) == 3 and all(inst.graph.has_edge(u, v) for u, v in combinations(s, 2))


@pytest.mark.parametrize("seed", range(4))
def test_maxflow_and_steiner_optima(seed):
    # max-flow: the optimum is networkx's unit-capacity max-flow value, and it decodes to a flow
    inst = random_instance("max-flow", 5, seed)
    g, s, t = inst.graph, inst.options["source"], inst.options["sink"]
    assert inst.n_qubits == 2 * g.number_of_edges() <= 16
    unit = nx.DiGraph([(u, v, {"c": 1}) for a, b in g.edges() for u, v in ((a, b), (b, a))])
    value = nx.maximum_flow_value(unit, s, t, capacity="c")
    assert value > 0
    assert -inst.exact().energy == value
    for b in inst.exact().bitstrings:
        arcs = inst.decode(b)
        net = {v: sum((a == v) - (c == v) for a, c in arcs) for v in g}
        assert all(net[v] == 0 for v in g if v not in (s, t)) and net[s] == value
    # Steiner tree: the lightest edge set connecting the terminals, found over every edge subset
    inst = random_instance("steiner-tree", 6, seed)
    g, terms = inst.graph, inst.options["terminals"]
    edges = list(g.edges(data="weight"))
    best = min(
        sum(wt for _, _, wt in sub)
        for r in range(1, len(edges) + 1)
        for sub in combinations(edges, r)
        if set(terms) <= {v for e in sub for v in e[:2]} and nx.is_connected(nx.Graph([e[:2] for e in sub]))
    )
    assert inst.exact().energy == pytest.approx(best)
    for b in inst.exact().bitstrings:
        tree = nx.minimum_spanning_tree(g.subgraph(inst.decode(b)))
        assert nx.is_connected(tree) and tree.size(weight="weight") == pytest.approx(best)


@pytest.mark.parametrize("seed", range(4))
def test_component_optimum_is_the_component(seed):
    inst = random_instance("connected-components", 7, seed)
    assert inst.n_qubits == 6 and len(inst.exact().bitstrings) == 1
    assert inst.decode(inst.exact().bitstrings[0]) == nx.node_connected_component(inst.graph, 0)


@pytest.mark.parametrize("seed", range(4))
def test_isomorphism_and_path_optima(seed):
    inst = random_instance("graph-isomorphism", 4, seed)
    h = nx.Graph(inst.options["other"])
    h.add_nodes_from(range(4))
    assert (inst.exact().energy == 0) == nx.is_isomorphic(inst.graph, h)
    if inst.exact().energy == 0:
        for b in inst.exact().bitstrings:
            f = {v: c[0] for v, c in inst.decode(b).items()}
            assert sorted(f.values()) == [0, 1, 2, 3]
            assert all(
                inst.graph.has_edge(u, v) == h.has_edge(f[u], f[v]) for u, v in combinations(range(4), 2)
            )
    inst = random_instance("hamiltonian-path", 4, seed)
    g = inst.graph
    exists = any(all(g.has_edge(p[i], p[i + 1]) for i in range(3)) for p in permutations(range(4)))
    assert (inst.exact().energy == 0) == exists
    if exists:
        for b in inst.exact().bitstrings:
            order = sorted(inst.decode(b), key=lambda v: inst.decode(b)[v][0])
            assert len(order) == 4 and all(g.has_edge(order[i], order[i + 1]) for i in range(3))


def test_bad_input_is_named():
    with pytest.raises(UnknownNameError, match="maxcut"):
        random_instance("max-clique-ish", 4, 0)
    with pytest.raises(ConfigurationError, match="17 qubits.*16"):
        build("maxcut", nx.path_graph(17))
    with pytest.raises(ConfigurationError, match="18 qubits"):
        build("graph-coloring", nx.path_graph(6))
    with pytest.raises(ConfigurationError, match="20 qubits.*16"):
        random_instance("matching", 40, 0)
    with pytest.raises(ConfigurationError, match="at least 2 nodes"):
        random_instance("maxcut", 1, 0)


@pytest.mark.parametrize(
    ("problem", "graph", "message"),
    [
        ("maxcut", nx.Graph([(0, 0), (0, 1), (1, 2)]), r"self-loops; nodes \[0\]"),
        ("max-flow", nx.DiGraph([(0, 1), (1, 2)]), "got a directed graph"),
        ("maxcut", nx.MultiGraph([(0, 1), (0, 1), (1, 2)]), "got a multigraph"),
        ("steiner-tree", nx.Graph([(0, 1, {"weight": "abc"}), (1, 2)]), r"edge \(0, 1\).*'abc'"),
        ("maxcut", nx.Graph([(0, 1, {"weight": float("nan")}), (1, 2)]), "finite number"),
        ("community-detection", nx.empty_graph(3), "needs a graph with an edge"),
        ("maxcut", nx.relabel_nodes(nx.path_graph(3), {0: 3}), "integers 0..n-1"),
    ],
)
def test_graphs_the_formulations_cannot_take_are_named(problem, graph, message):
    with pytest.raises(ConfigurationError, match=message):
        build(problem, graph)


def test_graph_attributes_naming_missing_nodes_are_named():
    g = nx.path_graph(3)
    g.graph["hyperedges"] = [[0, 1], [1, 5]]
    with pytest.raises(ConfigurationError, match=r"'hyperedges' names nodes outside 0..2: \[5\]"):
        build("hypermaxcut", g)
    g = nx.path_graph(4)
    g.graph["terminals"] = [0, 9]
    with pytest.raises(ConfigurationError, match="'terminals'"):
        build("steiner-tree", g)
