"""Where every box goes: a layered ("Sugiyama") layout of the workflow graph.

The classic recipe, in four steps, each a small function below: put every node in a
layer one below its deepest predecessor (``_layers``); give an edge that skips layers a
dummy slot in each layer it passes (``_chains``); order each layer to reduce crossings
(``_order``, plus ``_loop_to_side`` for loop edges); then choose x positions
(``_place``). Only positions are computed here; ``dag.py`` turns them into SVG.
"""

from __future__ import annotations

from dataclasses import dataclass

BOX_W, BOX_H, DUMMY_W = 184.0, 60.0, 8.0  # node box; the width a passing edge reserves
GAP, LAYER_GAP, TOP = 30.0, 52.0, 64.0  # between boxes, between layers, above layer 0

Chain = tuple[str, str, list[str], list[str]]  # source, target, whens, slot keys


@dataclass
class _Slot:
    """A place in a layer: a node box, or a dummy point that a long edge passes through."""

    key: str
    layer: int
    width: float
    x: float = 0.0  # centre


@dataclass
class _Layout:
    """The finished layout: slots with x positions, the rows they sit in, the edges."""

    slots: dict[str, _Slot]
    rows: list[list[str]]  # slot keys per layer, left to right
    chains: list[Chain]  # forward edges, each through its slots
    back_edges: list[dict]  # loop edges: drawn up the side

    def top(self, layer: int) -> float:
        """The y of the top of the boxes in ``layer``."""
        return TOP + layer * (BOX_H + LAYER_GAP)


def _mean(values: list[float], default: float) -> float:
    return sum(values) / len(values) if values else default


def _layers(names: list[str], edges: list[dict]) -> dict[str, int]:
    """Longest-path layering: a node sits one layer below its deepest predecessor."""
    preds: dict[str, list[str]] = {n: [] for n in names}
    for edge in edges:
        preds[edge["target"]].append(edge["source"])
    layer: dict[str, int] = {}
    while len(layer) < len(names):
        ready = [n for n in names if n not in layer and all(p in layer for p in preds[n])]
        if not ready:  # an unbounded cycle: break it at the first unplaced node
            ready = [next(n for n in names if n not in layer)]
        for name in ready:
            layer[name] = max((layer[p] + 1 for p in preds[name] if p in layer), default=0)
    return layer


def _chains(
    forward: list[dict], names: list[str], layer: dict, slots: dict[str, _Slot], rank: dict
) -> list[Chain]:
    """One chain per (source, target) pair: parallel edges share one drawn path. A chain
    passes a new dummy slot in every layer between its ends; each gets a ``rank`` (its
    place in the first ordering) just after its source's."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for e in forward:
        grouped.setdefault((e["source"], e["target"]), []).append(e.get("when") or "")
    chains = []
    for (src, tgt), whens in grouped.items():
        keys = [src]
        for li in range(layer[src] + 1, layer[tgt]):
            keys.append(f"{src}->{tgt}#{li}")
            slots[keys[-1]] = _Slot(keys[-1], li, DUMMY_W)
            rank[keys[-1]] = (names.index(src), 1, names.index(tgt))
        chains.append((src, tgt, [w for w in whens if w], keys + [tgt]))
    return chains


def _neighbours(slots: dict[str, _Slot], chains: list[Chain]) -> tuple[dict, dict]:
    """For every slot, the slots just above (``up``) and just below (``down``) it."""
    up: dict[str, list[str]] = {k: [] for k in slots}
    down: dict[str, list[str]] = {k: [] for k in slots}
    for *_, keys in chains:
        for a, b in zip(keys, keys[1:], strict=False):
            down[a].append(b)
            up[b].append(a)
    return up, down


def _crossings(rows: list[list[str]], down: dict[str, list[str]]) -> int:
    """Edge crossings between adjacent layers (small graphs: the O(E²) way is fine)."""
    total = 0
    for upper, lower in zip(rows, rows[1:], strict=False):
        pos = {k: i for i, k in enumerate(lower)}
        pairs = [(i, pos[t]) for i, k in enumerate(upper) for t in down[k] if t in pos]
        total += sum(1 for a in pairs for b in pairs if a[0] < b[0] and a[1] > b[1])
    return total


def _order(rows: list[list[str]], up: dict, down: dict, sweeps: int = 6) -> list[list[str]]:
    """Barycenter heuristic: sort each layer by the mean position of its neighbours,
    sweeping down then up; keep the ordering with fewest crossings. Sorting is stable,
    so ties keep the graph's node order."""
    best, best_cost = [r[:] for r in rows], _crossings(rows, down)
    pos = {k: i for row in rows for i, k in enumerate(row)}
    for sweep in range(sweeps):
        downward = sweep % 2 == 0
        nbrs = up if downward else down
        for li in range(1, len(rows)) if downward else range(len(rows) - 2, -1, -1):
            rows[li].sort(key=lambda k: _mean([pos[n] for n in nbrs[k]], pos[k]))
            pos.update({k: i for i, k in enumerate(rows[li])})
        cost = _crossings(rows, down)
        if cost < best_cost:
            best, best_cost = [r[:] for r in rows], cost
    return best


def _loop_to_side(rows: list[list[str]], edge: dict, down: dict) -> list[list[str]]:
    """A loop edge runs up the side of the picture, so move its two ends to the outside
    of their layers (the side costing fewer crossings): then it crosses no box."""
    options = []
    for side in (1, -1):  # right first: ties go right
        moved = [row[:] for row in rows]
        for row in moved:
            for name in (edge["source"], edge["target"]):
                if name in row:
                    row.remove(name)
                    row.insert(len(row) if side > 0 else 0, name)
        options.append((_crossings(moved, down), -side, moved))
    return min(options, key=lambda o: o[:2])[2]


def _pack(row: list[str], slots: dict[str, _Slot], desired: list[float]) -> None:
    """Put a layer's slots as close as possible (least squares) to the desired centres,
    keeping their order and GAP between them. This is isotonic regression by "pooling
    adjacent violators": neighbours that would overlap are moved as one block."""
    offsets = [0.0]
    for a, b in zip(row, row[1:], strict=False):
        offsets.append(offsets[-1] + (slots[a].width + slots[b].width) / 2 + GAP)
    blocks: list[list[float]] = []  # [sum, count] of pooled targets
    for want, off in zip(desired, offsets, strict=False):  # an empty row has one offset
        blocks.append([want - off, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    i = 0
    for total, count in blocks:
        for _ in range(int(count)):
            slots[row[i]].x = total / count + offsets[i]
            i += 1


def _place(rows: list[list[str]], slots: dict[str, _Slot], up: dict, down: dict) -> None:
    """x positions: pack every layer tightly, then pull slots towards the mean x of their
    neighbours, sweeping down and up, re-packing so boxes never overlap."""
    for row in rows:
        _pack(row, slots, [0.0] * len(row))
    for sweep in range(8):  # alternate direction: neighbours above, then below
        nbrs = up if sweep % 2 == 0 else down
        for row in rows if sweep % 2 == 0 else rows[::-1]:
            mean = [
                sum(slots[n].x for n in nbrs[k]) / len(nbrs[k]) if nbrs[k] else slots[k].x
                for k in row
            ]
            _pack(row, slots, mean)


def _layout(nodes: list[dict], edges: list[dict]) -> _Layout:
    """Layers, dummy slots for long edges, order within layers, then x positions."""
    names = [n["name"] for n in nodes]
    layer = _layers(names, [e for e in edges if e.get("loop_limit") is None])
    forward = [e for e in edges if layer[e["target"]] > layer[e["source"]]]
    forward = [e for e in forward if e.get("loop_limit") is None]
    slots = {n: _Slot(n, layer[n], BOX_W) for n in names}
    rank = {n: (i, 0, 0) for i, n in enumerate(names)}  # initial order: the graph's
    chains = _chains(forward, names, layer, slots, rank)
    up, down = _neighbours(slots, chains)
    rows: list[list[str]] = [[] for _ in range(max(layer.values(), default=0) + 1)]
    for key in sorted(slots, key=rank.__getitem__):
        rows[slots[key].layer].append(key)
    rows = _order(rows, up, down)
    back = [e for e in edges if e not in forward]
    for edge in back:
        rows = _loop_to_side(rows, edge, down)
    _place(rows, slots, up, down)
    return _Layout(slots, rows, chains, back)
