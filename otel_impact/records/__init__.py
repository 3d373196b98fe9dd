"""The typed result contract: one frozen record per result section (:mod:`.result`).

Stages build records (or the JSON types the records read), :func:`otel_impact.pipeline.analyze`
returns a :class:`Result`, and everything downstream reads attributes, not dict keys. JSON is
made at the edge only (``Result.to_json()``); its schema is generated into
``docs/result-schema.json`` by :mod:`otel_impact.records.schema`.
"""

from otel_impact.records.base import Number, Record, Segment, Timestamp
from otel_impact.records.result import *  # noqa: F403
from otel_impact.records.result import __all__ as _sections

__all__ = ["Number", "Record", "Segment", "Timestamp", *_sections]
