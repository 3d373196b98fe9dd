"""Prediction metrics: attributes, cardinality cap, histograms, local buffering, unsampled."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from otel_harness import Otel, make_otel

from otel_impact import semconv
from otel_impact.instrument import Settings
from otel_impact.instrument.metrics import LATENCY_BUCKETS_S, SCORE_BUCKETS


def _by_attrs(points: list) -> dict[frozenset, object]:
    return {frozenset(dict(p.attributes).items()): p for p in points}


def test_metric_attributes_are_model_version_and_configured_segments_only(otel: Otel) -> None:
    with otel.instr.track_prediction(
        "ranker", "v2", user_id="u1", session_id="s1", request_id="r1",
        segment={"platform": "mobile", "tenure": "new", "country": "DE"},
    ) as p:  # fmt: skip
        p.record(score=0.5)
    metrics = otel.metrics()
    expected = {
        semconv.ML_MODEL_NAME: "ranker",
        semconv.ML_MODEL_VERSION: "v2",
        "ml.segment.platform": "mobile",
        "ml.segment.tenure": "new",
    }
    for name in (
        semconv.METRIC_PREDICTIONS,
        semconv.METRIC_PREDICTION_DURATION,
        semconv.METRIC_PREDICTION_SCORE,
    ):
        [point] = metrics[name]
        assert dict(point.attributes) == expected, name


def test_missing_segment_key_is_omitted(otel: Otel) -> None:
    with otel.instr.track_prediction("m", "v", segment={"platform": "web"}):
        pass
    [point] = otel.metrics()[semconv.METRIC_PREDICTIONS]
    assert dict(point.attributes) == {
        semconv.ML_MODEL_NAME: "m", semconv.ML_MODEL_VERSION: "v", "ml.segment.platform": "web"
    }  # fmt: skip


def test_cardinality_cap_collapses_to_other(otel: Otel) -> None:
    # the fixture caps each segment key at 3 distinct values
    for platform in ["a", "b", "c", "d", "e", "a", "e"]:
        with otel.instr.track_prediction("m", "v", segment={"platform": platform}):
            pass
    counts = {
        dict(p.attributes)["ml.segment.platform"]: p.value for p in otel.metrics()[semconv.METRIC_PREDICTIONS]
    }
    assert counts == {"a": 2, "b": 1, "c": 1, semconv.SEGMENT_OTHER: 3}
    # spans keep the true value: only metrics are bounded
    assert otel.spans()[-1].attributes["ml.segment.platform"] == "e"


def test_counts_are_cumulative_across_collections(otel: Otel) -> None:
    for _ in range(3):
        with otel.instr.track_prediction("m", "v"):
            pass
    assert otel.metrics()[semconv.METRIC_PREDICTIONS][0].value == 3
    with otel.instr.track_prediction("m", "v"):
        pass
    metrics = otel.metrics()
    assert metrics[semconv.METRIC_PREDICTIONS][0].value == 4
    assert metrics[semconv.METRIC_PREDICTION_DURATION][0].count == 4


def test_score_histogram_matches_recorded_scores(otel: Otel) -> None:
    scores = [0.01, 0.2, 0.2, 0.51, 0.99, 1.0]
    for s in scores:
        with otel.instr.track_prediction("m", "v") as p:
            p.record(score=s)
    with otel.instr.track_prediction("m", "v") as p:
        p.record(score=-1.5)  # negative margins stay on the span; the SDK histogram rejects them
    [hist] = otel.metrics()[semconv.METRIC_PREDICTION_SCORE]
    assert hist.count == len(scores)
    assert hist.sum == pytest.approx(sum(scores))
    assert (hist.min, hist.max) == (0.01, 1.0)
    assert list(hist.explicit_bounds) == list(SCORE_BUCKETS)
    assert otel.spans()[-1].attributes[semconv.ML_PREDICTION_SCORE] == -1.5


def test_latency_histogram_is_in_seconds_with_advisory_buckets(otel: Otel) -> None:
    with otel.instr.track_prediction("m", "v", timestamp=10**18, duration_s=0.003):
        pass
    [hist] = otel.metrics()[semconv.METRIC_PREDICTION_DURATION]
    assert list(hist.explicit_bounds) == list(LATENCY_BUCKETS_S)
    assert hist.sum == pytest.approx(0.003)
    assert list(hist.bucket_counts)[LATENCY_BUCKETS_S.index(0.005)] == 1


def test_metrics_are_recorded_when_span_is_not_sampled() -> None:
    o = make_otel(Settings(), sampler=ALWAYS_OFF)
    for _ in range(5):
        with o.instr.track_prediction("m", "v") as p:
            p.record(score=0.3)
    assert o.spans() == []
    metrics = o.metrics()
    assert metrics[semconv.METRIC_PREDICTIONS][0].value == 5
    assert metrics[semconv.METRIC_PREDICTION_SCORE][0].count == 5


def test_buffer_bound_flushes_inline() -> None:
    o = make_otel(Settings(metric_buffer=10))
    for _ in range(12):
        with o.instr.track_prediction("m", "v"):
            pass
    assert o.instr.metrics is not None
    assert len(o.instr.metrics._queue) < 10  # flushed by the recording thread, memory stays bounded
    assert o.metrics()[semconv.METRIC_PREDICTION_DURATION][0].count == 12


def test_errors_counter_only_counts_failures(otel: Otel) -> None:
    for fail in (False, True, True):
        try:
            with otel.instr.track_prediction("m", "v"):
                if fail:
                    raise RuntimeError
        except RuntimeError:
            pass
    metrics = otel.metrics()
    assert metrics[semconv.METRIC_PREDICTIONS][0].value == 3
    assert metrics[semconv.METRIC_PREDICTION_ERRORS][0].value == 2


def test_bucket_mode_exports_cumulative_bucket_counters() -> None:
    o = make_otel(Settings(histograms="buckets"))
    for duration, score in [(0.0004, 0.02), (0.003, 0.5), (0.003, None), (20.0, 0.97)]:
        with o.instr.track_prediction("m", "v", timestamp=10**18, duration_s=duration) as p:
            if score is not None:
                p.record(score=score)
    metrics = o.metrics()
    assert semconv.METRIC_PREDICTION_DURATION not in metrics  # no histogram in this mode
    dur = {
        dict(p.attributes)[semconv.BUCKET_LE]: p.value
        for p in metrics[semconv.METRIC_PREDICTION_DURATION_BUCKET]
    }
    assert len(dur) == len(LATENCY_BUCKETS_S) + 1
    assert (dur["0.0005"], dur["0.001"], dur["0.005"], dur["10.0"], dur["+Inf"]) == (1, 1, 3, 3, 4)
    [dur_sum] = metrics[semconv.METRIC_PREDICTION_DURATION_SUM]
    assert dur_sum.value == pytest.approx(0.0004 + 0.003 + 0.003 + 20.0)
    score = {
        dict(p.attributes)[semconv.BUCKET_LE]: p.value
        for p in metrics[semconv.METRIC_PREDICTION_SCORE_BUCKET]
    }
    assert (score["0.05"], score["0.5"], score["0.95"], score["+Inf"]) == (1, 2, 2, 3)
    assert metrics[semconv.METRIC_PREDICTION_SCORE_SUM][0].value == pytest.approx(0.02 + 0.5 + 0.97)
    point = metrics[semconv.METRIC_PREDICTION_SCORE_BUCKET][0]
    assert {k for k in point.attributes} == {
        semconv.ML_MODEL_NAME,
        semconv.ML_MODEL_VERSION,
        semconv.BUCKET_LE,
    }
    assert metrics[semconv.METRIC_PREDICTIONS][0].value == 4


def test_bucket_mode_matches_the_histogram_buckets() -> None:
    """Both modes bucket identically: cumulative counters == running sum of histogram bucket counts."""
    values = [0.0001, 0.0005, 0.0006, 0.02, 0.3, 0.3, 7.0, 11.0]
    both = {mode: make_otel(Settings(histograms=mode)) for mode in ("otlp", "buckets")}
    for o in both.values():
        for v in values:
            with o.instr.track_prediction("m", "v", timestamp=10**18, duration_s=v):
                pass
    [hist] = both["otlp"].metrics()[semconv.METRIC_PREDICTION_DURATION]
    running, cumulative = 0, []
    for c in hist.bucket_counts:
        running += c
        cumulative.append(running)
    counters = both["buckets"].metrics()[semconv.METRIC_PREDICTION_DURATION_BUCKET]
    assert [p.value for p in counters] == cumulative


def test_invalid_histogram_mode_from_env_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(semconv.ENV_METRIC_HISTOGRAMS, "exponential")
    assert Settings.from_env().histograms == "otlp"
    monkeypatch.setenv(semconv.ENV_METRIC_HISTOGRAMS, "BUCKETS")
    assert Settings.from_env().histograms == "buckets"


def test_unhashable_segment_value_is_stringified(otel: Otel) -> None:
    with otel.instr.track_prediction("m", "v", segment={"platform": ["web", "app"]}):
        pass
    [point] = otel.metrics()[semconv.METRIC_PREDICTIONS]
    assert dict(point.attributes)["ml.segment.platform"] == "['web', 'app']"
    assert otel.spans()[0].attributes["ml.segment.platform"] == "['web', 'app']"


def test_forked_child_starts_from_zero() -> None:
    import os

    o = make_otel(Settings())
    with o.instr.track_prediction("m", "v"):
        pass
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: its own counts only
        try:
            with o.instr.track_prediction("m", "v"):
                pass
            assert o.instr.metrics is not None
            o.instr.metrics.flush()
            os.write(write, str(sum(s.count for s in o.instr.metrics._series.values())).encode())
        finally:
            os._exit(0)
    os.close(write)
    child_count = os.read(read, 32).decode()
    os.waitpid(pid, 0)
    assert child_count == "1"
    assert o.metrics()[semconv.METRIC_PREDICTIONS][0].value == 1  # the parent is unaffected
