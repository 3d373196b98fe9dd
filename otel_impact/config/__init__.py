"""Configuration: ``impact.yaml`` → frozen typed models; errors name the dotted key."""

from otel_impact.config.base import Duration, Section, format_duration, parse_duration
from otel_impact.config.loader import config_from_dict, load_config, load_config_text
from otel_impact.config.model import BusinessMetric, ImpactConfig

__all__ = [
    "BusinessMetric",
    "Duration",
    "ImpactConfig",
    "Section",
    "config_from_dict",
    "format_duration",
    "load_config",
    "load_config_text",
    "parse_duration",
]
