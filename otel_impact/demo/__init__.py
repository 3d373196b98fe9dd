"""``otel-impact demo``: simulated, instrumented services end to end, planted vs recovered.

* :mod:`~otel_impact.demo.truth` — the planted effects; :mod:`~otel_impact.demo.world` — the
  seeded simulation (pure numpy);
* :mod:`~otel_impact.demo.services`, :mod:`~otel_impact.demo.api`, :mod:`~otel_impact.demo.emit`,
  :mod:`~otel_impact.demo.parallel` — the simulated services on the real SDK and OTLP exporters;
* :mod:`~otel_impact.demo.reconcile` — emitted vs stored; :mod:`~otel_impact.demo.impact_config` —
  the analyzer config; :mod:`~otel_impact.demo.recover` — planted vs recovered;
  :mod:`~otel_impact.demo.report` — outputs; :mod:`~otel_impact.demo.run` — the whole run.
"""

from otel_impact.demo.run import DemoOptions, DemoOutcome, run_demo
from otel_impact.demo.truth import PlantedTruth

__all__ = ["DemoOptions", "DemoOutcome", "PlantedTruth", "run_demo"]
