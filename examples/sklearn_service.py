"""A tiny scikit-learn "service" with no tracing code: run it under ``opentelemetry-instrument``.

    OTEL_SERVICE_NAME=shop-ranker OTEL_IMPACT_MODEL_VERSION=v1 \
    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
    opentelemetry-instrument python examples/sklearn_service.py

It trains a logistic regression, serves ``--requests`` single-row ``predict_proba`` calls and one
batch call, and records a ``business.purchase`` event when a user buys. The auto-instrumentation
(otel-impact's ``opentelemetry_instrumentor`` entry point) turns every estimator call into a
``predict LogisticRegression`` span plus ``ml.predictions`` / latency / score metrics, and the
SDK is configured from the ``OTEL_*`` variables alone. The business events are the only
otel-impact call in the code; without an SDK they are no-ops.
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.linear_model import LogisticRegression

from otel_impact import record_business_event


def main(requests: int = 300, seed: int = 7) -> int:
    rng = np.random.default_rng(seed)
    weights = np.array([1.0, -0.5, 0.3])
    x_train = rng.normal(size=(500, 3))
    y_train = (x_train @ weights + rng.normal(0.0, 0.5, 500) > 0).astype(int)
    model = LogisticRegression().fit(x_train, y_train)

    purchases = 0
    for i in range(requests):
        row = rng.normal(size=(1, 3))
        p_buy = float(model.predict_proba(row)[0, 1])
        if rng.random() < p_buy * 0.5:
            purchases += 1
            record_business_event(
                "purchase", value=round(10.0 + 40.0 * p_buy, 2), currency="EUR", user_id=f"u{i % 40}"
            )
    model.predict(rng.normal(size=(25, 3)))  # one batch call: one span with ml.prediction.count=25
    print(f"served {requests} predictions, {purchases} purchases")
    return purchases


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    main(args.requests, args.seed)
