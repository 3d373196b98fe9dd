"""Screenshots of the top of the demo report for docs/ (run from the repository root).

    .venv/bin/python scripts/report_screenshots.py [--out docs]

Runs a small demo (2,000 users × 30 days, seed 3, embedded chDB in a temporary directory),
then renders its report.html in Debian's headless Chromium at 1400 px and writes
``docs/report-top.png`` (first screen) and ``docs/report-headline.png`` (taller, down to the
first charts). Needs /usr/bin/chromium (``apt-get install -y chromium``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from report_browser import screenshot  # noqa: E402

from otel_impact.demo.run import DemoOptions, run_demo  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:  # chDB may still hold files
        work = Path(tmp)
        outcome = run_demo(
            DemoOptions(
                users=2000,
                days=30,
                seed=3,
                dsn=f"chdb://{work / 'db'}",
                out=work / "demo-out",
                end=datetime(2026, 11, 20, tzinfo=UTC),
            )
        )
        report = outcome.paths["html"]
        screenshot(report, out / "report-top.png", work, height=900)
        screenshot(report, out / "report-headline.png", work, height=1700)
    print(f"wrote {out / 'report-top.png'} and {out / 'report-headline.png'}")


if __name__ == "__main__":
    main()
