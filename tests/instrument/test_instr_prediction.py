"""Prediction spans: attributes, ids, errors, explicit timestamps, context, never raising."""

from __future__ import annotations

import logging

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode
from otel_harness import Otel

from otel_impact import instrument_model, semconv, track_prediction
from otel_impact.instrument import feature_hash


def test_span_carries_every_prediction_attribute(otel: Otel) -> None:
    with track_prediction(
        "ranker", "v2", user_id="u1", session_id="s1", request_id="r1",
        segment={"platform": "mobile", "tenure": "new"}, features=[0.3, 1.0, None],
    ) as p:  # fmt: skip
        p.record(score=0.87, label="click")
    [span] = otel.spans()
    assert span.name == "predict ranker"
    assert span.kind == SpanKind.INTERNAL
    assert dict(span.attributes or {}) == {
        semconv.ML_MODEL_NAME: "ranker",
        semconv.ML_MODEL_VERSION: "v2",
        semconv.ML_PREDICTION_ID: p.id,
        semconv.USER_ID: "u1",
        semconv.SESSION_ID: "s1",
        semconv.ML_REQUEST_ID: "r1",
        "ml.segment.platform": "mobile",
        "ml.segment.tenure": "new",
        semconv.ML_FEATURES_HASH: feature_hash([0.3, 1.0, None]),
        semconv.ML_FEATURES_MISSING: 1,
        semconv.ML_PREDICTION_SCORE: 0.87,
        semconv.ML_PREDICTION_LABEL: "click",
    }
    assert span.status.status_code == StatusCode.UNSET


def test_prediction_ids_are_unique_hex_and_overridable(otel: Otel) -> None:
    ids = set()
    for _ in range(200):
        with track_prediction("m", "v") as p:
            pass
        ids.add(p.id)
    assert len(ids) == 200
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    with track_prediction("m", "v", prediction_id="given") as p:
        pass
    assert p.id == "given"
    assert otel.spans()[-1].attributes[semconv.ML_PREDICTION_ID] == "given"


def test_prediction_ids_ignore_host_seeding_of_random(otel: Otel) -> None:
    import random

    random.seed(1)
    with track_prediction("m", "v") as a:
        pass
    random.seed(1)
    with track_prediction("m", "v") as b:
        pass
    assert a.id != b.id


def test_error_is_recorded_and_reraised_unchanged(otel: Otel) -> None:
    boom = KeyError("missing feature")
    with pytest.raises(KeyError) as info, track_prediction("ranker", "v2"):
        raise boom
    assert info.value is boom
    [span] = otel.spans()
    assert span.status.status_code == StatusCode.ERROR
    assert "KeyError" in (span.status.description or "")
    assert span.attributes[semconv.ERROR_TYPE] == "KeyError"
    [event] = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] == "KeyError"
    errors = otel.metrics()[semconv.METRIC_PREDICTION_ERRORS]
    assert [dp.value for dp in errors] == [1]


def test_explicit_timestamp_and_duration(otel: Otel) -> None:
    t0 = 1_700_000_000_000_000_000
    with track_prediction("m", "v", timestamp=t0, duration_s=0.25):
        pass
    with track_prediction("m", "v", timestamp=t0 + 10, end_timestamp=t0 + 5_000):
        pass
    with track_prediction("m", "v", timestamp=t0 + 20):
        pass
    a, b, c = otel.spans()
    assert (a.start_time, a.end_time) == (t0, t0 + 250_000_000)
    assert (b.start_time, b.end_time) == (t0 + 10, t0 + 5_000)
    assert c.start_time == t0 + 20 and t0 + 20 <= c.end_time < t0 + 20 + 10**9
    [hist] = otel.metrics()[semconv.METRIC_PREDICTION_DURATION]
    assert hist.count == 3
    assert hist.max == pytest.approx(0.25)
    assert hist.sum == pytest.approx(0.25 + 4.99e-6 + (c.end_time - c.start_time) / 1e9)


def test_span_is_current_inside_and_restored_after(otel: Otel) -> None:
    before = trace.get_current_span()
    tracer = otel.tracer_provider.get_tracer("host")
    with track_prediction("m", "v") as p:
        assert trace.get_current_span() is p.span
        with tracer.start_as_current_span("feature lookup"):
            pass
    assert trace.get_current_span() is before
    child, parent = otel.spans()
    assert child.parent is not None and child.parent.span_id == parent.context.span_id


def test_batch_count_is_recorded(otel: Otel) -> None:
    with track_prediction("m", "v") as p:
        p.record(count=25)
    assert otel.spans()[0].attributes[semconv.ML_PREDICTION_COUNT] == 25
    [points] = otel.metrics()[semconv.METRIC_PREDICTIONS]
    assert points.value == 25


def test_never_raises_on_bad_inputs(otel: Otel, caplog: pytest.LogCaptureFixture) -> None:
    class Weird:
        pass

    with caplog.at_level(logging.WARNING, logger="otel_impact.instrument"):
        with track_prediction("m", "v", features=[1.0, Weird()]) as p:
            p.record(score="not a number")  # type: ignore[arg-type]
            p.record(label="ok")
        result = "host result"
    assert result == "host result"
    [span] = otel.spans()
    assert semconv.ML_FEATURES_HASH not in span.attributes
    assert semconv.ML_PREDICTION_SCORE not in span.attributes
    assert span.attributes[semconv.ML_PREDICTION_LABEL] == "ok"
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "features hash" in messages and "Prediction.record" in messages


def test_decorator_wraps_function_and_method(otel: Otel) -> None:
    @instrument_model("ranker", "v2", segment_from=lambda user, **kw: {"platform": user["platform"]},
                      ids_from=lambda user, **kw: {"user_id": user["id"]})  # fmt: skip
    def rank(user: dict[str, str], boost: float = 0.0) -> float:
        return 0.25 + boost

    class Model:
        @instrument_model("clf", "v1", label_from=lambda r: r[1], score_from=lambda r: r[0])
        def predict(self, x: float) -> tuple[float, str]:
            return x, "yes"

    assert rank({"platform": "web", "id": "u9"}, boost=0.5) == 0.75
    assert Model().predict(0.4) == (0.4, "yes")
    a, b = otel.spans()
    assert a.name == "predict ranker"
    assert a.attributes["ml.segment.platform"] == "web"
    assert a.attributes[semconv.USER_ID] == "u9"
    assert a.attributes[semconv.ML_PREDICTION_SCORE] == 0.75
    assert b.attributes[semconv.ML_PREDICTION_LABEL] == "yes"
    assert b.attributes[semconv.ML_PREDICTION_SCORE] == 0.4


def test_decorator_survives_broken_segment_callable(otel: Otel, caplog: pytest.LogCaptureFixture) -> None:
    def broken(*args: object) -> dict[str, str]:
        raise RuntimeError("segment store down")

    @instrument_model("ranker", "v2", segment_from=broken)
    def rank(x: int) -> int:
        return x * 2

    with caplog.at_level(logging.WARNING, logger="otel_impact.instrument"):
        assert rank(21) == 42
        assert rank(1) == 2
    assert len(otel.spans()) == 2
    assert sum("segment_from" in r.getMessage() for r in caplog.records) == 1  # logged once


def test_decorator_reraises_host_error(otel: Otel) -> None:
    @instrument_model("ranker", "v2")
    def rank() -> float:
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        rank()
    assert otel.spans()[0].status.status_code == StatusCode.ERROR


def test_async_decorator(otel: Otel) -> None:
    import asyncio

    @instrument_model("ranker", "v2")
    async def rank() -> float:
        await asyncio.sleep(0)
        return 0.5

    assert asyncio.run(rank()) == 0.5
    assert otel.spans()[0].attributes[semconv.ML_PREDICTION_SCORE] == 0.5


def test_works_without_any_sdk() -> None:
    from otel_impact.instrument import Instrumentation, Settings

    instr = Instrumentation(tracer_provider=trace.NoOpTracerProvider(), settings=Settings(metric_buffer=4))
    for _ in range(10):
        with instr.track_prediction("m", "v", features=[1.0]) as p:
            p.record(score=0.5)
    assert len(p.id) == 32


def test_concurrent_predictions_are_all_counted(otel: Otel) -> None:
    import threading

    def worker(n: int) -> None:
        for i in range(n):
            with otel.instr.track_prediction("m", "v", segment={"platform": f"p{i % 2}"}) as p:
                p.record(score=0.5)

    threads = [threading.Thread(target=worker, args=(1500,)) for _ in range(4)]
    collector_stop = threading.Event()

    def collector() -> None:  # collections racing with recording threads must not lose anything
        while not collector_stop.is_set():
            otel.reader.collect()

    c = threading.Thread(target=collector)
    c.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    collector_stop.set()
    c.join()
    metrics = otel.metrics()
    assert sum(p.value for p in metrics[semconv.METRIC_PREDICTIONS]) == 6000
    assert sum(p.count for p in metrics[semconv.METRIC_PREDICTION_SCORE]) == 6000
    assert len(otel.spans()) == 6000


@pytest.mark.parametrize("model", [None, 42, ""])
def test_invalid_model_name_never_breaks_the_host(
    otel: Otel, caplog: pytest.LogCaptureFixture, model: object
) -> None:
    with caplog.at_level(logging.WARNING, logger="otel_impact.instrument"):
        with track_prediction(model, "v") as p:  # type: ignore[arg-type]
            result = "served"
        p.record(score=0.1)
    assert result == "served"
    assert len(p.id) == 32
    assert otel.spans() == []  # no telemetry for an unnamed model, and no metrics either
    assert semconv.METRIC_PREDICTIONS not in otel.metrics()
    [record] = caplog.records
    assert "model must be a non-empty string" in str(record.exc_info[1])  # type: ignore[index]
