"""Command-line shell: ``otel-impact <command>``. Parsing and printing only; work lives elsewhere."""

from otel_impact.cli.main import main

__all__ = ["main"]
