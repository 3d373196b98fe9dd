"""The package root: exact public API, cheap import, env settings."""

from __future__ import annotations

import json
import subprocess
import sys

from otel_harness import make_otel

import otel_impact
from otel_impact import semconv
from otel_impact.instrument import Settings


def test_package_exports_exactly_the_public_api() -> None:
    assert sorted(otel_impact.__all__) == [
        "Instrumentation",
        "configure",
        "instrument_model",
        "record_business_event",
        "record_outcome",
        "record_pipeline_event",
        "track_prediction",
    ]
    for name in otel_impact.__all__:
        assert callable(getattr(otel_impact, name))


def test_import_does_not_load_heavy_modules() -> None:
    code = (
        "import sys, json, otel_impact\n"
        "from otel_impact import track_prediction, record_business_event\n"
        "with track_prediction('m', 'v', features=[1.0]) as p: p.record(score=0.5)\n"
        "record_business_event('purchase', value=1.0)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('numpy', 'scipy', 'chdb', 'clickhouse_connect', 'pandas', 'sklearn'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_settings_from_env(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(semconv.ENV_SEGMENT_KEYS, " platform, tenure ,")
    monkeypatch.setenv(semconv.ENV_SEGMENT_CARDINALITY_CAP, "7")
    monkeypatch.setenv(semconv.ENV_FEATURE_SUMMARIES, "true")
    monkeypatch.setenv(semconv.ENV_METRIC_BUFFER, "-3")  # invalid: default kept, no exception
    s = Settings.from_env()
    assert s.segment_keys == ("platform", "tenure")
    assert s.cardinality_cap == 7
    assert s.feature_summaries is True
    assert s.metric_buffer == Settings().metric_buffer


def test_module_functions_have_the_instance_methods_signatures() -> None:
    import inspect

    from otel_impact.instrument import Instrumentation, api

    instance = Instrumentation()
    for name in ("track_prediction", "instrument_model", "record_business_event", "record_outcome",
                 "record_pipeline_event"):  # fmt: skip
        fn = getattr(api, name)
        assert inspect.signature(fn) == inspect.signature(getattr(instance, name)), name
        assert fn.__doc__ == getattr(Instrumentation, name).__doc__


def test_module_instrument_model_binds_the_default_instance_at_the_first_call() -> None:
    import asyncio

    from otel_impact import instrument_model
    from otel_impact.instrument import set_instrumentation

    @instrument_model("m", "v")  # decorated before the default instance exists
    def score(x: float) -> float:
        return x

    @instrument_model("a", "v")
    async def score_async(x: float) -> float:
        return x

    otel = make_otel()
    set_instrumentation(otel.instr)
    try:
        assert score(0.25) == 0.25
        assert asyncio.run(score_async(0.5)) == 0.5
        spans = otel.spans()
        assert [s.name for s in spans] == ["predict m", "predict a"]
        assert [s.attributes[semconv.ML_PREDICTION_SCORE] for s in spans] == [0.25, 0.5]
        assert score.__name__ == "score"
    finally:
        set_instrumentation(None)
