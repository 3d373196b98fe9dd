"""The stage graph: each stage declares what it reads and writes; the order follows from that.

A :class:`Stage` names the items of the run it **needs** (reads), **gives** (writes; it is the only
producer) and **adds** to (shared items several stages append to, such as ``result.alerts``, or
extend after their producer, such as ``result.series``). Items are spelled ``cache.<key>``
(:attr:`JobContext.cache <otel_impact.context.JobContext.cache>`, values stages hand each other)
or ``result.<section>`` (the JSON document). :func:`order_stages` orders the stages so that

* the producer of an item runs before every stage that adds to it or needs it,
* the stages adding to an item run in the order they are listed, before every stage needing it,

keeping the listed order wherever the declarations allow (so the listed order is today's order
unless a declaration demands otherwise). A need nobody gives or adds, an item given twice, or a
cycle is a :class:`StageGraphError` when the pipeline is imported — never halfway through a run.

:func:`guarded` gives one stage a view of the context that raises :class:`UndeclaredAccess` on an
item the stage did not declare; the pipeline uses it with ``analyze(..., check_access=True)`` (the
tests run the job that way).

>>> def noop(ctx):
...     pass
>>> a = Stage("a", noop, gives=frozenset({"cache.x"}))
>>> b = Stage("b", noop, needs=frozenset({"cache.x"}))
>>> [s.name for s in order_stages([b, a])]
['a', 'b']
>>> order_stages([b])
Traceback (most recent call last):
...
otel_impact.stages.graph.StageGraphError: stage 'b' needs cache.x, which no stage gives or adds
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from otel_impact.docpage import replace_between
from otel_impact.errors import OtelImpactError

if TYPE_CHECKING:
    from otel_impact.context import JobContext

CACHE, RESULT = "cache.", "result."
PROVIDED = frozenset({"result.window"})  # written by the pipeline before any stage runs


class StageGraphError(OtelImpactError):
    """The stage declarations do not form a graph the pipeline can run (missing producer, cycle)."""


class UndeclaredAccess(OtelImpactError):
    """A stage read or wrote a cache key or result section it did not declare."""


def cache(key: str) -> str:
    """The item name of ``ctx.cache[key]``."""
    return CACHE + key


def result(section: str) -> str:
    """The item name of ``ctx.result[section]``."""
    return RESULT + section


@dataclass(frozen=True)
class Stage:
    """One analysis stage: ``run(ctx)`` plus what it needs, gives and adds (see the module doc)."""

    name: str
    run: Callable[[JobContext], None]
    needs: frozenset[str] = field(default_factory=frozenset)
    gives: frozenset[str] = field(default_factory=frozenset)
    adds: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        for kind in ("needs", "gives", "adds"):
            value = getattr(self, kind)
            if isinstance(value, str):
                raise TypeError(f"Stage {self.name!r}: {kind} must be a set of item names, not a string")
            object.__setattr__(self, kind, frozenset(value))
            for item in getattr(self, kind):
                if not item.startswith((CACHE, RESULT)) or item in (CACHE, RESULT):
                    raise ValueError(
                        f"Stage {self.name!r}: {kind} item {item!r} must be cache.<key> or result.<section>"
                    )

    def __call__(self, ctx: JobContext) -> None:
        self.run(ctx)

    @property
    def touches(self) -> frozenset[str]:
        """Every item the stage may read or write."""
        return self.needs | self.gives | self.adds

    def with_run(self, run: Callable[[JobContext], None]) -> Stage:
        """The same declarations around another ``run`` (tests swap a stage's body)."""
        return replace(self, run=run)


def _edges(stages: Sequence[Stage]) -> dict[int, set[int]]:
    """index → indices of the stages that must run after it."""
    after: dict[int, set[int]] = {i: set() for i in range(len(stages))}
    givers: dict[str, int] = {}
    for i, s in enumerate(stages):
        for item in s.gives:
            if item in givers or item in PROVIDED:
                other = "the pipeline" if item in PROVIDED else repr(stages[givers[item]].name)
                raise StageGraphError(
                    f"{item} is given by both {other} and stage {s.name!r}; one producer each"
                )
            givers[item] = i
    adders: dict[str, list[int]] = {}
    for i, s in enumerate(stages):
        for item in sorted(s.adds):
            adders.setdefault(item, []).append(i)
    for s in stages:
        for item in sorted(s.needs):
            if item in PROVIDED:
                continue
            if item not in givers and item not in adders:
                raise StageGraphError(f"stage {s.name!r} needs {item}, which no stage gives or adds")
    for item, chain in adders.items():
        if item in givers:
            for j in chain:
                if j != givers[item]:
                    after[givers[item]].add(j)
        for a, b in itertools.pairwise(chain):
            after[a].add(b)
    for i, s in enumerate(stages):
        for item in s.needs:
            if item in givers and givers[item] != i:
                after[givers[item]].add(i)
            for j in adders.get(item, ()):
                if j != i:
                    after[j].add(i)
    return after


def order_stages(stages: Iterable[Stage]) -> tuple[Stage, ...]:
    """The stages in an order that satisfies their declarations, closest to the given order.

    Raises :class:`StageGraphError` on duplicate names, a need without a producer, an item given
    twice, or a cycle (naming the stages in it).
    """
    listed = list(stages)
    names = [s.name for s in listed]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise StageGraphError(f"stage names must be unique: {', '.join(dupes)}")
    after = _edges(listed)
    indegree = {i: 0 for i in after}
    for targets in after.values():
        for j in targets:
            indegree[j] += 1
    ready = [i for i, d in indegree.items() if d == 0]
    heapq.heapify(ready)
    out: list[int] = []
    while ready:
        i = heapq.heappop(ready)  # the earliest listed stage whose inputs are all there
        out.append(i)
        for j in after[i]:
            indegree[j] -= 1
            if indegree[j] == 0:
                heapq.heappush(ready, j)
    if len(out) < len(listed):
        stuck = [listed[i].name for i in sorted(set(indegree) - set(out))]
        raise StageGraphError(f"the stage declarations form a cycle among: {', '.join(stuck)}")
    return tuple(listed[i] for i in out)


def graph_lines(stages: Sequence[Stage]) -> Iterator[tuple[str, str, str]]:
    """``(producer, item, consumer)`` for every declared hand-over between stages, in run order."""
    givers: dict[str, str] = {}
    adders: dict[str, list[str]] = {}
    for s in stages:
        for item in s.gives:
            givers[item] = s.name
        for item in s.adds:
            adders.setdefault(item, []).append(s.name)
    for s in stages:
        for item in sorted(s.needs | s.adds):
            producers = [givers[item]] if item in givers else []
            if item in s.needs:
                producers += [a for a in adders.get(item, []) if a != s.name]
            for p in producers:
                if p != s.name:
                    yield p, item, s.name


BEGIN, END = "<!-- stage-graph:begin (generated: make docs) -->", "<!-- stage-graph:end -->"


def render_graph(stages: Sequence[Stage]) -> str:
    """The stage graph as Markdown: a Mermaid flowchart of the hand-overs (solid: a stage needs
    what another gives; dotted: stages adding to one shared item, in order) and a table of every
    stage's declarations, in run order (what ``python -m otel_impact.pipeline --graph`` writes)."""

    def items(values: frozenset[str]) -> str:
        return ", ".join(f"`{v}`" for v in sorted(values)) or "—"

    lines = ["```mermaid", "flowchart TD"]
    lines += [f'    {s.name}["{i + 1}. {s.name}"]' for i, s in enumerate(stages)]
    edges: dict[tuple[str, str], list[str]] = {}
    for producer, item, consumer in graph_lines(stages):
        edges.setdefault((producer, consumer), []).append(item)
    lines += [f'    {p} -->|"{", ".join(its)}"| {c}' for (p, c), its in edges.items()]
    chained: dict[tuple[str, str], list[str]] = {}  # adders of one item run in listed order
    for item in sorted({i for s in stages for i in s.adds}):
        adders = [s.name for s in stages if item in s.adds]
        for p, c in itertools.pairwise(adders):
            chained.setdefault((p, c), []).append(item)
    lines += [f'    {p} -.->|"{", ".join(its)}"| {c}' for (p, c), its in chained.items()]
    lines += ["```", "", "| # | stage | needs | gives | adds to |", "|---|---|---|---|---|"]
    lines += [
        f"| {i + 1} | `{s.name}` | {items(s.needs)} | {items(s.gives)} | {items(s.adds)} |"
        for i, s in enumerate(stages)
    ]
    return "\n".join(lines) + "\n"


def replace_generated(text: str, generated: str) -> str:
    """``text`` with the part between the :data:`BEGIN` / :data:`END` markers replaced."""
    return replace_between(text, BEGIN, END, generated)


class _Guarded(dict[str, Any]):
    """A copy of ``ctx.cache`` / ``ctx.result`` that raises on keys its stage did not declare."""

    def __init__(self, data: dict[str, Any], stage: Stage, prefix: str) -> None:
        super().__init__(data)
        self._stage = stage
        self._prefix = prefix
        self._read = {i[len(prefix) :] for i in stage.touches if i.startswith(prefix)}
        self._write = {i[len(prefix) :] for i in stage.gives | stage.adds if i.startswith(prefix)}

    def _check(self, key: Any, write: bool = False) -> None:
        allowed = self._write if write else self._read
        if key not in allowed:
            verb = "writes" if write else "reads"
            kind = "gives/adds" if write else "needs/gives/adds"
            raise UndeclaredAccess(
                f"stage {self._stage.name!r} {verb} {self._prefix}{key} without declaring it in its {kind}"
            )

    def __getitem__(self, key: str) -> Any:
        self._check(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._check(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self._check(key)
        return super().__contains__(key)

    def __setitem__(self, key: str, value: Any) -> None:
        self._check(key, write=True)
        super().__setitem__(key, value)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self._check(key, write=key not in dict.keys(self))
        self._check(key)
        return super().setdefault(key, default)

    def __delitem__(self, key: str) -> None:
        self._check(key, write=True)
        super().__delitem__(key)

    def pop(self, key: str, *default: Any) -> Any:
        self._check(key, write=True)
        return super().pop(key, *default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key in dict(*args, **kwargs):
            self._check(key, write=True)
        super().update(*args, **kwargs)


def run_guarded(stage: Stage, ctx: JobContext) -> None:
    """Run ``stage`` on guarded copies of ``ctx.cache`` and ``ctx.result``, then write its changes
    back (same key order as an unguarded run). Raises :class:`UndeclaredAccess`."""
    cache_view = _Guarded(ctx.cache, stage, CACHE)
    result_view = _Guarded(ctx.result, stage, RESULT)
    real_cache, real_result = ctx.cache, ctx.result
    ctx.cache, ctx.result = cache_view, result_view
    try:
        stage(ctx)
    finally:
        ctx.cache, ctx.result = real_cache, real_result
        for real, view in ((real_cache, cache_view), (real_result, result_view)):
            for key in [k for k in real if k not in dict.keys(view)]:
                del real[key]
            real.update(dict.items(view))


__all__ = [
    "BEGIN",
    "END",
    "PROVIDED",
    "Stage",
    "StageGraphError",
    "UndeclaredAccess",
    "cache",
    "graph_lines",
    "order_stages",
    "render_graph",
    "replace_generated",
    "result",
    "run_guarded",
]
