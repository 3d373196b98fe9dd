"""The tracking plan: pure payload rules (:mod:`.validate`) and the store checks (:mod:`.check`).

Importing this package loads only the pure rules, so :mod:`otel_impact.testing` stays free of
the store and numpy.
"""

from otel_impact.plan.validate import (
    PlanProblem,
    Violation,
    check_payload,
    load_plan,
    matches,
    plan_from_dict,
    validate_plan,
)

__all__ = [
    "PlanProblem",
    "Violation",
    "check_payload",
    "load_plan",
    "matches",
    "plan_from_dict",
    "validate_plan",
]
