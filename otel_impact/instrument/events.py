"""Business, outcome and pipeline events: OTel log records with an EventName.

* ``business.<name>`` — ``business.value``, ``business.currency``, ``user.id``, ``session.id``,
  optional ``ml.prediction.id`` / ``ml.request.id``.
* ``ml.outcome`` — ground truth for a prediction: ``ml.prediction.id``, ``ml.outcome.label`` /
  ``ml.outcome.value``.
* ``pipeline.run`` / ``pipeline.incident`` — upstream lineage: ``pipeline.name``,
  ``pipeline.status``, ``dataset.name``, ``data.version``, ``pipeline.change``.

Every function takes an optional ``timestamp`` (ns since epoch) used as the log record timestamp.
Invalid arguments (an empty name, a non-numeric value) drop the event with a one-time warning that
names the argument: instrumentation never raises into the host.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from time import time_ns
from typing import Literal

from opentelemetry._logs import Logger, SeverityNumber

from otel_impact import semconv
from otel_impact.instrument._safe import log_once

AttributeValue = str | bool | int | float
_Attrs = dict[str, AttributeValue]


def _put(attrs: _Attrs, key: str, value: object) -> None:
    if value is not None:
        attrs[key] = value if isinstance(value, str) else str(value)


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            value = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number, got {value!r}") from None
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return result


def _name(name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


class EventsMixin:
    """The ``record_*`` event functions; the host class provides ``logger``."""

    logger: Logger
    _logger_real: bool

    def check_sdk(self, kind: str) -> None: ...

    def _emit(self, event_name: str, attrs: _Attrs, extra: Mapping[str, AttributeValue] | None,
              timestamp: int | None) -> None:  # fmt: skip
        if not self._logger_real:
            self.check_sdk("logger")
        if extra:
            attrs = {**extra, **attrs}
        self.logger.emit(
            timestamp=timestamp if timestamp is not None else time_ns(),
            severity_number=SeverityNumber.INFO,
            event_name=event_name,
            attributes=attrs,
        )

    def record_business_event(
        self,
        name: str,
        value: float | None = None,
        *,
        currency: str | None = None,
        user_id: object = None,
        session_id: object = None,
        prediction_id: str | None = None,
        request_id: object = None,
        attributes: Mapping[str, AttributeValue] | None = None,
        timestamp: int | None = None,
    ) -> None:
        """Emit ``business.<name>`` (e.g. a purchase worth ``value`` ``currency``) for a user/session.

        >>> from otel_impact.instrument import Instrumentation
        >>> Instrumentation().record_business_event("purchase", 42.0, currency="EUR", user_id="u1")
        """
        try:
            attrs: _Attrs = {}
            if value is not None:
                attrs[semconv.BUSINESS_VALUE] = _number("value", value)
            _put(attrs, semconv.BUSINESS_CURRENCY, currency)
            _put(attrs, semconv.USER_ID, user_id)
            _put(attrs, semconv.SESSION_ID, session_id)
            _put(attrs, semconv.ML_PREDICTION_ID, prediction_id)
            _put(attrs, semconv.ML_REQUEST_ID, request_id)
            self._emit(semconv.business_event(_name("name", name)), attrs, attributes, timestamp)
        except Exception as exc:
            log_once("record_business_event", exc)

    def record_outcome(
        self,
        prediction_id: str,
        label: object = None,
        value: float | None = None,
        *,
        model: str | None = None,
        version: str | None = None,
        attributes: Mapping[str, AttributeValue] | None = None,
        timestamp: int | None = None,
    ) -> None:
        """Emit ``ml.outcome``: the observed truth (``label`` and/or numeric ``value``) for a prediction."""
        try:
            attrs: _Attrs = {semconv.ML_PREDICTION_ID: _name("prediction_id", prediction_id)}
            _put(attrs, semconv.ML_OUTCOME_LABEL, label)
            if value is not None:
                attrs[semconv.ML_OUTCOME_VALUE] = _number("value", value)
            _put(attrs, semconv.ML_MODEL_NAME, model)
            _put(attrs, semconv.ML_MODEL_VERSION, version)
            self._emit(semconv.EVENT_ML_OUTCOME, attrs, attributes, timestamp)
        except Exception as exc:
            log_once("record_outcome", exc)

    def record_pipeline_event(
        self,
        pipeline: str,
        status: str,
        *,
        dataset: str | None = None,
        data_version: str | None = None,
        change: str | None = None,
        kind: Literal["run", "incident"] = "run",
        attributes: Mapping[str, AttributeValue] | None = None,
        timestamp: int | None = None,
    ) -> None:
        """Emit ``pipeline.run`` (``kind="run"``, one per pipeline run, any status) or
        ``pipeline.incident`` (``kind="incident"``, e.g. a data-quality alert) for upstream lineage.
        """
        try:
            if kind not in ("run", "incident"):
                raise ValueError(f"kind must be 'run' or 'incident', got {kind!r}")
            attrs: _Attrs = {
                semconv.PIPELINE_NAME: _name("pipeline", pipeline),
                semconv.PIPELINE_STATUS: _name("status", status),
            }
            _put(attrs, semconv.DATASET_NAME, dataset)
            _put(attrs, semconv.DATA_VERSION, data_version)
            _put(attrs, semconv.PIPELINE_CHANGE, change)
            event = semconv.EVENT_PIPELINE_RUN if kind == "run" else semconv.EVENT_PIPELINE_INCIDENT
            self._emit(event, attrs, attributes, timestamp)
        except Exception as exc:
            log_once("record_pipeline_event", exc)
