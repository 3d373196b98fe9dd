"""Linking anomalies to upstream events; freshness (late / missing runs)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from otel_impact.analyze.anomaly import detect_anomalies
from otel_impact.analyze.linking import (
    CHANGE_DATA_VERSION,
    CHANGE_OFF_CADENCE,
    CLOCK_SKEW,
    EMPTY_LINEAGE,
    Lineage,
    UpstreamEvent,
    check_freshness,
    lineage_weight,
    link_events,
    mark_version_changes,
    proximity,
    severity,
)

DAY = 86400.0
T0 = 1_793_491_200.0  # 2026-11-01T00:00:00Z
LINEAGE = Lineage.from_maps(
    {"ranker": ["user_ctr", "item_pop"], "churn": ["tenure"]},
    {"user_ctr": ["clicks"], "item_pop": ["catalog"], "tenure": ["accounts"]},
    {"clicks": ["features_daily"], "catalog": ["catalog_sync"], "accounts": ["crm_export"]},
)


def test_lineage_flattening_and_distance() -> None:
    assert LINEAGE.datasets["ranker"] == {"clicks", "catalog"}
    assert LINEAGE.pipelines["ranker"] == {"features_daily", "catalog_sync"}
    assert LINEAGE.distance("ranker", UpstreamEvent(0, dataset="clicks")) == 2
    assert LINEAGE.distance("ranker", UpstreamEvent(0, pipeline="catalog_sync")) == 3
    assert LINEAGE.distance("ranker", UpstreamEvent(0, pipeline="crm_export", dataset="accounts")) is None
    assert lineage_weight("unknown", UpstreamEvent(0, dataset="clicks"), LINEAGE) == (0.5, None)


def test_severity_order() -> None:
    failed = severity(UpstreamEvent(0, status="failed"))
    schema = severity(UpstreamEvent(0, status="success", change="schema_change"))
    missing = severity(UpstreamEvent(0, kind="missing"))
    late = severity(UpstreamEvent(0, kind="late"))
    declared = severity(UpstreamEvent(0, status="success", change="new_source"))
    changed = severity(UpstreamEvent(0, status="success", change="data_version"))
    off = severity(UpstreamEvent(0, status="success", change="off_cadence"))
    routine = severity(UpstreamEvent(0, status="success"))
    assert failed == schema == 1.0
    assert failed > missing > late > declared > changed > off > routine == 0.0


def _synthetic_incident(seed: int, *, with_events: bool = True) -> tuple[np.ndarray, list[UpstreamEvent]]:
    """AUC of ranker per day for 30 days; a schema change on `clicks` (feeds user_ctr) at day 12
    10:00, AUC drops from day 13; the unrelated `crm_export` fails the same day at 11:00;
    routine successful runs of every pipeline each day."""
    rng = np.random.default_rng(seed)
    auc = 0.8 + rng.normal(0, 0.01, 30)
    auc[13:] -= 0.05
    events: list[UpstreamEvent] = []
    if with_events:
        for d in range(30):
            for p, ds in (
                ("features_daily", "clicks"),
                ("catalog_sync", "catalog"),
                ("crm_export", "accounts"),
            ):
                events.append(UpstreamEvent(d * DAY + 3600, p, ds, "success", "", f"v{d}"))
        events.append(
            UpstreamEvent(12 * DAY + 10 * 3600, "features_daily", "clicks", "success", "schema_change")
        )
        events.append(UpstreamEvent(12 * DAY + 11 * 3600, "crm_export", "accounts", "failed", "", ""))
    return auc, events


@pytest.mark.parametrize("seed", range(5))
def test_schema_change_on_feeding_dataset_ranks_first(seed: int) -> None:
    auc, events = _synthetic_incident(seed)
    det = detect_anomalies(auc)
    (anomaly,) = [a for a in det.anomalies if a.direction == "down"]
    assert abs(anomaly.start - 13) <= 1
    links = link_events(
        anomaly.start * DAY, events, model="ranker", lineage=LINEAGE, window=3 * DAY, tolerance=DAY
    )
    assert links[0].event.change == "schema_change"
    assert links[0].event.dataset == "clicks"
    assert links[0].distance == 2
    unrelated = [lk for lk in links if lk.event.pipeline == "crm_export" and lk.event.status == "failed"]
    assert unrelated, "the unrelated failure is still offered, lower"
    assert unrelated[0].score < links[0].score
    assert links.index(unrelated[0]) > 0
    # routine successful runs do not pass the min score
    assert all(not (lk.event.status == "success" and not lk.event.change) for lk in links)


def test_drop_without_upstream_events_is_unlinked() -> None:
    auc, events = _synthetic_incident(0, with_events=False)
    (anomaly,) = detect_anomalies(auc).anomalies
    assert link_events(anomaly.start * DAY, events, model="ranker", lineage=LINEAGE, window=3 * DAY) == ()
    # only routine runs around: still unlinked
    _, routine = _synthetic_incident(0)
    routine = [e for e in routine if e.status == "success" and not e.change]
    assert link_events(anomaly.start * DAY, routine, model="ranker", lineage=LINEAGE, window=3 * DAY) == ()


def test_a_cause_precedes_its_effect() -> None:
    ev = [
        UpstreamEvent(100.0, "features_daily", "clicks", "failed"),
        UpstreamEvent(10.0, "features_daily", "clicks", "failed"),  # too early
        UpstreamEvent(202.0, "features_daily", "clicks", "failed"),  # after start, inside clock skew
        UpstreamEvent(205.0, "features_daily", "clicks", "failed"),  # inside the first bucket
        UpstreamEvent(230.0, "features_daily", "clicks", "failed"),  # after the first bucket
    ]
    links = link_events(200.0, ev, model="ranker", lineage=LINEAGE, window=150.0, tolerance=10.0, skew=3.0)
    assert [lk.event.at for lk in links] == [202.0, 100.0, 205.0]
    assert links[0].lag_s == -2.0 and links[0].proximity == 1.0
    assert links[1].proximity == pytest.approx(1 - 0.5 * 100 / 150)
    assert links[1].score == pytest.approx(1.0 * 1.0 * (1 - 0.5 * 100 / 150))
    assert links[2].proximity == pytest.approx(0.5 * (1 - 5 / 10))  # never full after the start
    # no grace at all: only what precedes the start, with the first bucket at reduced weight
    strict = link_events(200.0, ev, model="ranker", lineage=LINEAGE, window=150.0, skew=0.0)
    assert [lk.event.at for lk in strict] == [100.0]


def test_proximity_closed_form() -> None:
    assert proximity(0.0, window=100.0, tolerance=0.0) == 1.0
    assert proximity(50.0, window=100.0, tolerance=0.0) == 0.75
    assert proximity(101.0, window=100.0, tolerance=0.0) == 0.0
    assert proximity(-CLOCK_SKEW, window=1e6, tolerance=0.0) == 1.0
    assert proximity(-CLOCK_SKEW - 1, window=1e6, tolerance=0.0) == 0.0
    assert proximity(-DAY / 2, window=1e6, tolerance=DAY) == pytest.approx(0.25)


def test_routine_runs_are_background() -> None:
    """Daily successful runs with a date-stamped data.version that advances: severity 0 and never
    a candidate, however close; a declared change, a failure, a version break and an
    off-cadence run of the same pipeline are candidates."""
    runs = [
        UpstreamEvent(T0 + d * DAY + 3600, "features_daily", "clicks", "success", "", f"2026-11-{d + 1:02d}")
        for d in range(20)
    ]
    marked = mark_version_changes(runs, {"features_daily": DAY})
    assert all(e.change == "" and severity(e) == 0.0 for e in marked)
    assert (
        link_events(T0 + 10 * DAY, marked, model="ranker", lineage=LINEAGE, window=3 * DAY, min_score=0.0)
        == ()
    )
    unusual = [
        UpstreamEvent(
            T0 + 5 * DAY + 7200, "features_daily", "clicks", "success", "", "2026-11-06"
        ),  # extra run
        UpstreamEvent(
            T0 + 12 * DAY + 7200, "features_daily", "clicks", "success", "", "2026-10-01"
        ),  # backfill
        UpstreamEvent(
            T0 + 15 * DAY + 7200, "features_daily", "clicks", "success", "new_source", "2026-11-16"
        ),
        UpstreamEvent(T0 + 17 * DAY + 7200, "features_daily", "clicks", "failed", "", ""),
    ]
    out = {e.at: e.change for e in mark_version_changes(runs + unusual, {"features_daily": DAY})}
    assert out[T0 + 5 * DAY + 7200] == CHANGE_OFF_CADENCE
    assert out[T0 + 12 * DAY + 7200] == CHANGE_DATA_VERSION  # a date stamp going backwards
    assert out[T0 + 13 * DAY + 3600] == ""  # back to the current partition: routine again
    assert out[T0 + 15 * DAY + 7200] == "new_source"
    assert out[T0 + 16 * DAY + 3600] == ""


def test_a_pipeline_that_always_changes_its_version_is_routine() -> None:
    runs = [UpstreamEvent(d * DAY, "etl", "d", "success", "", f"build-{d * 7919 % 1000}") for d in range(10)]
    assert all(e.change == "" for e in mark_version_changes(runs))
    rare = [UpstreamEvent(d * DAY, "etl", "d", "success", "", "v8" if d == 5 else "v7") for d in range(10)]
    assert [e.change for e in mark_version_changes(rare)][4:7] == [
        "",
        CHANGE_DATA_VERSION,
        CHANGE_DATA_VERSION,
    ]


def test_ranking_is_deterministic_under_input_order() -> None:
    _, events = _synthetic_incident(1)
    a = link_events(
        13 * DAY, events, model="ranker", lineage=LINEAGE, window=3 * DAY, min_score=0.0, limit=100
    )
    b = link_events(
        13 * DAY, events[::-1], model="ranker", lineage=LINEAGE, window=3 * DAY, min_score=0.0, limit=100
    )
    assert a == b
    assert [lk.score for lk in a] == sorted((lk.score for lk in a), reverse=True)


def test_unknown_model_uses_neutral_lineage_weight() -> None:
    ev = [UpstreamEvent(0.0, "x", "y", "failed")]
    (lk,) = link_events(0.0, ev, model="m", lineage=EMPTY_LINEAGE, window=10.0)
    assert lk.lineage_weight == 0.5 and lk.score == 0.5


def test_mark_version_changes() -> None:
    ev = [
        UpstreamEvent(2.0, "p", "d", "success", "", "v1"),
        UpstreamEvent(1.0, "p", "d", "success", "", "v1"),
        UpstreamEvent(3.0, "p", "d", "success", "", "v2"),
        UpstreamEvent(4.0, "p", "d", "success", "schema_change", "v3"),
    ]
    out = mark_version_changes(ev)
    assert [e.at for e in out] == [1.0, 2.0, 3.0, 4.0]
    assert [e.change for e in out] == ["", "", "data_version", "schema_change"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"window": 0.0}, "window"),
        ({"window": 1.0, "tolerance": -1.0}, "tolerance"),
        ({"window": 1.0, "min_score": 2.0}, "min_score"),
        ({"window": 1.0, "limit": 0}, "limit"),
    ],
)
def test_link_events_validates_arguments(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        link_events(0.0, [], model="m", **kwargs)  # type: ignore[arg-type]


# --- freshness -----------------------------------------------------------------------------


def test_on_time_runs_are_fresh() -> None:
    runs = [d * DAY + 600 for d in range(10)]
    f = check_freshness(runs, schedule=DAY, grace=2 * 3600, start=0, end=10 * DAY)
    assert (f.status, f.late, f.missing, f.gaps, f.n) == ("ok", 0, 0, (), 10)
    assert f.last_run == runs[-1] and f.expected_next == runs[-1] + DAY


def test_late_run_is_one_late_event_at_its_deadline() -> None:
    runs = [d * DAY for d in range(10)]
    runs[5] += 5 * 3600  # 5 h late, grace 2 h
    f = check_freshness(runs, schedule=DAY, grace=2 * 3600, start=0, end=10 * DAY)
    assert (f.late, f.missing) == (1, 0)
    (gap,) = f.gaps
    assert gap.kind == "late" and gap.at == 5 * DAY + 2 * 3600


def test_missing_runs_and_overdue_status() -> None:
    runs = [0.0, DAY, 4 * DAY]  # days 2 and 3 missing
    f = check_freshness(
        runs, schedule=DAY, grace=3600, start=0, end=5 * DAY + 7200, pipeline="p", dataset="d"
    )
    assert [(g.kind, g.at) for g in f.gaps] == [
        ("missing", 2 * DAY + 3600),
        ("missing", 3 * DAY + 3600),
        ("late", 5 * DAY + 3600),  # due at day 5, grace 1 h, 2 h past due at the window's end
    ]
    assert f.status == "late"
    assert (f.late, f.missing) == (1, 2)
    assert f.gaps[0].pipeline == "p" and f.gaps[0].dataset == "d"
    stale = check_freshness(runs, schedule=DAY, grace=3600, start=0, end=7 * DAY)
    assert stale.status == "missing"
    assert stale.missing == 4  # days 2, 3, 5, 6 (day 7's deadline lies outside)


def test_no_runs_at_all() -> None:
    f = check_freshness([], schedule=DAY, grace=0, start=0, end=3 * DAY)
    assert f.status == "unknown" and math.isnan(f.last_run)
    assert [g.at for g in f.gaps] == [DAY]


def test_runs_before_the_window_anchor_but_do_not_emit_gaps() -> None:
    runs = [-5 * DAY, 2 * DAY]
    f = check_freshness(runs, schedule=DAY, grace=0, start=0, end=3 * DAY)
    assert [g.at for g in f.gaps] == [0.0, DAY]  # deadlines -4..-1 d are before the window
    assert f.n == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"schedule": 0.0}, "schedule"), ({"grace": -1.0}, "grace"), ({"end": -1.0}, "end")],
)
def test_freshness_validates_arguments(kwargs: dict[str, float], match: str) -> None:
    args: dict[str, float] = {"schedule": DAY, "grace": 0.0, "start": 0.0, "end": DAY} | kwargs
    with pytest.raises(ValueError, match=match):
        check_freshness([], **args)


@pytest.mark.parametrize("module", ["anomaly", "drift", "linking"])
def test_docstring_examples_run(module: str) -> None:
    import doctest
    import importlib

    mod = importlib.import_module(f"otel_impact.analyze.{module}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
