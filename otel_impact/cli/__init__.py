"""Command-line shell: ``otel-impact <command>``. Parsing and printing only; work lives elsewhere.

The command needs the ``analyzer`` extra (``pip install 'otel-impact[analyzer]'``); an
instrumentation-only install gets one line saying so instead of a traceback.
"""

try:
    from otel_impact.cli.main import main
except ModuleNotFoundError as _exc:  # instrumentation-only install: click (the analyzer extra) is missing
    _MISSING = _exc.name

    def main(argv: list[str] | None = None) -> None:
        """Say which extra the command needs (exit 2)."""
        import sys

        sys.stderr.write(
            f"error: the otel-impact command needs the analyzer extra ({_MISSING} is not installed): "
            "pip install 'otel-impact[analyzer]'\n"
        )
        sys.exit(2)


__all__ = ["main"]
