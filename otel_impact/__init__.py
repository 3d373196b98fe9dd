"""otel-impact."""
