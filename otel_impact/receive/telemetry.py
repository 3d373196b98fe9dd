"""The receiver's own telemetry: items accepted, refused and failed, per signal.

* accepted — written to the store and acknowledged;
* refused — not taken: malformed input, rejected items (``partial_success``), missing auth,
  queue full (the client retries those);
* failed — taken but the store write failed after all retries (the client got 503 and retries).

The counts are exported as OTel counters (meter from the global MeterProvider, names in
:mod:`otel_impact.semconv`) and kept locally for ``GET /metrics`` (Prometheus text) and
``GET /healthz``. Recording never raises.

>>> stats = ReceiverStats()
>>> stats.add("accepted", Signal.TRACES, 3)
>>> stats.snapshot()["accepted"]["traces"]
3
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Literal

from otel_impact import semconv
from otel_impact.receive.protocol import Signal

log = logging.getLogger(__name__)

Outcome = Literal["accepted", "refused", "failed"]
OUTCOMES: tuple[Outcome, ...] = ("accepted", "refused", "failed")
_METRIC = {
    "accepted": semconv.METRIC_RECEIVER_ACCEPTED,
    "refused": semconv.METRIC_RECEIVER_REFUSED,
    "failed": semconv.METRIC_RECEIVER_FAILED,
}
_HELP = {
    "accepted": "Items written to the store and acknowledged.",
    "refused": "Items refused: malformed, rejected, unauthenticated or queue full.",
    "failed": "Items whose store write failed after retries.",
}


class ReceiverStats:
    """Thread-safe counters mirrored to OTel counters."""

    def __init__(self, meter_provider: Any | None = None) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, dict[str, int]] = {o: {s.value: 0 for s in Signal} for o in OUTCOMES}
        self._counters: dict[str, Any] = {}
        try:
            from opentelemetry import metrics

            meter = (meter_provider or metrics.get_meter_provider()).get_meter(semconv.RECEIVER_SCOPE)
            for outcome in OUTCOMES:
                self._counters[outcome] = meter.create_counter(
                    _METRIC[outcome], unit="{item}", description=_HELP[outcome]
                )
        except Exception:  # no usable meter: keep local counts only
            log.debug("receiver telemetry: no OTel meter", exc_info=True)

    def add(self, outcome: Outcome, signal: Signal, n: int) -> None:
        if n <= 0:
            return
        with self._lock:
            self._counts[outcome][signal.value] += n
        counter = self._counters.get(outcome)
        if counter is not None:
            try:
                counter.add(n, {semconv.RECEIVER_SIGNAL: signal.value})
            except Exception:
                log.debug("receiver telemetry: counter.add failed", exc_info=True)

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {o: dict(per) for o, per in self._counts.items()}

    def prometheus_text(self, gauges: dict[str, float] | None = None) -> str:
        """Prometheus exposition text: one ``*_total`` counter family per outcome."""
        snap = self.snapshot()
        lines: list[str] = []
        for outcome in OUTCOMES:
            name = _METRIC[outcome].replace(".", "_") + "_total"
            lines.append(f"# HELP {name} {_HELP[outcome]}")
            lines.append(f"# TYPE {name} counter")
            for signal, value in snap[outcome].items():
                lines.append(f'{name}{{signal="{signal}"}} {value}')
        for gname, gauge in (gauges or {}).items():
            lines.append(f"# TYPE {gname} gauge")
            lines.append(f"{gname} {gauge:g}")
        return "\n".join(lines) + "\n"
