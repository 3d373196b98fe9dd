"""SQL pieces shared by the dashboards (table names through the ``${database}`` variable)."""

from __future__ import annotations

from typing import Any

from gen.grafana import annotation, query_var

METRICS = "${database}.impact_metrics_latest"  # deduplicated impact.* points
EVENTS = "${database}.impact_events_latest"  # deduplicated impact.alert / impact.incident
# typed tables the store's materialized views fill (the impact_predictions / impact_events views
# give the same rows but derive them from the attribute maps on every read)
PREDICTIONS = "${database}.impact_predictions_typed"
RAW_EVENTS = "${database}.impact_events_typed"

SEGMENT = (
    "Attributes['impact.segment.key'] = ${segment_key:singlequote} "
    "AND Attributes['impact.segment.value'] = ${segment_value:singlequote}"
)

# the business series of ${business_metric} in the chosen ${measure} (impact.series names)
BUSINESS_SERIES = (
    "if(${measure:singlequote} = 'value', ${business_metric:singlequote}, "
    "concat(${business_metric:singlequote}, '.', ${measure:singlequote}))"
)


def segment_vars() -> list[dict[str, Any]]:
    """``segment_key`` (``all`` = every user) and its dependent ``segment_value``."""
    return [
        query_var(
            "segment_key",
            "Segment key",
            f"SELECT DISTINCT Attributes['impact.segment.key'] FROM {METRICS} "
            "WHERE MetricName = 'impact.series' AND Attributes['impact.segment.key'] != '' ORDER BY 1",
            default="all",
        ),
        query_var(
            "segment_value",
            "Segment value",
            f"SELECT DISTINCT Attributes['impact.segment.value'] FROM {METRICS} "
            "WHERE MetricName = 'impact.series' AND Attributes['impact.segment.key'] = ${segment_key:singlequote} "
            "ORDER BY 1",
            default="all",
        ),
    ]


ALERT_ANNOTATION = annotation(
    "Analyzer alerts",
    f"""
SELECT Timestamp AS time,
  concat('[', LogAttributes['impact.alert.severity'], '] ', Rule, ' ', LogAttributes['impact.alert.state']) AS title,
  Body AS text,
  arrayStringConcat(arrayFilter(x -> x != '', [Rule, LogAttributes['impact.alert.severity'], SegmentKey, SegmentValue]), ',') AS tags
FROM {EVENTS}
WHERE EventName = 'impact.alert' AND $__timeFilter(Timestamp)
ORDER BY time
""",
    "red",
)
