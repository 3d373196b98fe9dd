"""ImpactInstrumentor in-process: scikit-learn estimators, OTEL_IMPACT_TARGETS, uninstrument."""

from __future__ import annotations

from collections.abc import Iterator

import instr_targets
import numpy as np
import pytest
from otel_harness import Otel
from sklearn.base import BaseEstimator
from sklearn.linear_model import LinearRegression, LogisticRegression

from otel_impact import semconv
from otel_impact.instrument.auto import ImpactInstrumentor


@pytest.fixture()
def instrumented(otel: Otel, monkeypatch: pytest.MonkeyPatch) -> Iterator[Otel]:
    monkeypatch.setenv(
        semconv.ENV_TARGETS,
        "instr_targets:Scorer.score, instr_targets:Scorer.static_score,instr_targets:score_fn,nope:x",
    )
    monkeypatch.setenv(semconv.ENV_MODEL_VERSION, "v3")
    ImpactInstrumentor().instrument()
    try:
        yield otel
    finally:
        ImpactInstrumentor().uninstrument()


def _fit() -> LogisticRegression:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    y = (x[:, 0] > 0).astype(int)
    return LogisticRegression().fit(x, y)


def test_sklearn_single_row_predict_proba(instrumented: Otel) -> None:
    model = _fit()
    instrumented.spans_exporter.clear()
    row = np.array([[2.0, 0.0]])
    proba = model.predict_proba(row)
    [span] = instrumented.spans()  # the nested decision_function call is not a second prediction
    assert span.name == "predict LogisticRegression"
    assert span.attributes[semconv.ML_MODEL_NAME] == "LogisticRegression"
    assert span.attributes[semconv.ML_MODEL_VERSION] == "v3"
    assert span.attributes[semconv.ML_PREDICTION_SCORE] == pytest.approx(proba[0, 1])
    assert span.attributes[semconv.ML_PREDICTION_LABEL] == "1"


def test_sklearn_predict_decision_function_and_batch(instrumented: Otel) -> None:
    model = _fit()
    instrumented.spans_exporter.clear()
    assert model.predict(np.array([[-2.0, 0.0]])).tolist() == [0]
    margin = model.decision_function(np.array([[1.0, 0.0]]))
    model.predict(np.zeros((30, 2)))
    a, b, c = instrumented.spans()
    assert a.attributes[semconv.ML_PREDICTION_LABEL] == "0"
    assert b.attributes[semconv.ML_PREDICTION_SCORE] == pytest.approx(margin[0])
    assert c.attributes[semconv.ML_PREDICTION_COUNT] == 30
    assert semconv.ML_PREDICTION_SCORE not in c.attributes
    counts = instrumented.metrics()[semconv.METRIC_PREDICTIONS]
    assert sum(p.value for p in counts) == 1 + 1 + 30


def test_sklearn_regressor_and_estimator_defined_later(instrumented: Otel) -> None:
    reg = LinearRegression().fit(np.array([[0.0], [1.0]]), np.array([0.0, 2.0]))

    class Custom(BaseEstimator):
        def predict(self, x: object) -> list[float]:
            return [0.7]

    instrumented.spans_exporter.clear()
    reg.predict(np.array([[0.5]]))
    Custom().predict([[1]])
    a, b = instrumented.spans()
    assert a.attributes[semconv.ML_PREDICTION_SCORE] == pytest.approx(1.0)
    assert b.name == "predict Custom"
    assert b.attributes[semconv.ML_PREDICTION_SCORE] == 0.7


def test_targets_are_wrapped(instrumented: Otel) -> None:
    assert instr_targets.Scorer().score(3.0) == 1.5
    assert instr_targets.Scorer.static_score(4.0) == 1.0
    assert instr_targets.score_fn(2.0) == 4.0
    a, b, c = instrumented.spans()
    assert [s.name for s in (a, b, c)] == ["predict Scorer", "predict Scorer", "predict score_fn"]
    assert [s.attributes[semconv.ML_PREDICTION_SCORE] for s in (a, b, c)] == [1.5, 1.0, 4.0]


def test_model_name_override(otel: Otel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(semconv.ENV_MODEL_NAME, "churn")
    monkeypatch.setenv(semconv.ENV_TARGETS, "instr_targets:score_fn")
    ImpactInstrumentor().instrument()
    try:
        instr_targets.score_fn(1.0)
        _fit().predict(np.zeros((1, 2)))
    finally:
        ImpactInstrumentor().uninstrument()
    assert {s.name for s in otel.spans()} == {"predict churn"}


def test_uninstrument_restores_originals(otel: Otel, monkeypatch: pytest.MonkeyPatch) -> None:
    from sklearn.linear_model._base import LinearClassifierMixin

    originals = (
        vars(LogisticRegression)["predict_proba"],
        vars(LinearClassifierMixin)["predict"],
        vars(instr_targets.Scorer)["score"],
        vars(instr_targets.Scorer)["static_score"],
        instr_targets.score_fn,
        "__init_subclass__" in vars(BaseEstimator),
    )
    monkeypatch.setenv(
        semconv.ENV_TARGETS,
        "instr_targets:Scorer.score,instr_targets:Scorer.static_score,instr_targets:score_fn",
    )
    ImpactInstrumentor().instrument()
    assert vars(LogisticRegression)["predict_proba"] is not originals[0]
    ImpactInstrumentor().uninstrument()
    assert (
        vars(LogisticRegression)["predict_proba"],
        vars(LinearClassifierMixin)["predict"],
        vars(instr_targets.Scorer)["score"],
        vars(instr_targets.Scorer)["static_score"],
        instr_targets.score_fn,
        "__init_subclass__" in vars(BaseEstimator),
    ) == originals
    _fit().predict(np.zeros((1, 2)))
    instr_targets.score_fn(1.0)
    assert otel.spans() == []


def test_host_result_survives_broken_instrumentation(
    instrumented: Otel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from otel_impact.instrument import auto

    def broken() -> object:
        raise RuntimeError("instrumentation state corrupted")

    monkeypatch.setattr(auto, "get_instrumentation", broken)
    assert instr_targets.score_fn(5.0) == 10.0
    with pytest.raises(TypeError, match="NoneType"):  # the host's own error still propagates unchanged
        instr_targets.Scorer().score(None)  # type: ignore[arg-type]
