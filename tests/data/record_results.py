"""Record the analysis result documents the export, report and digest tests run on.

The documents are what the real pipeline produced for the reduced demo (2,000 users × 30 days,
seed 3, ending 2026-11-20): the demo's simulated services emit through the OTel SDK and OTLP to
the embedded receiver, chDB stores the rows, and the analyzer job writes the result. Two files:

* ``recorded/demo-results.json`` — the main analysis (every stage the demo configures);
* ``recorded/llm-results.json`` — the LLM support assistant's analysis (cost per outcome,
  evaluation scores, prompt versions).

The demo configures no evaluation matrix, so the ``evaluation`` section is added the way the job
adds it (:func:`otel_impact.evaluation.evaluate` over the analysis result) for the two features of
:data:`EVALUATION`. Run-specific values (run id, start time) are replaced by fixed ones, and the ``series`` section
is thinned to the first series of each (kind, name) to keep the files small; every other
section is kept verbatim. ``tests/demo/test_demo_e2e.py`` checks that a fresh run of the same
demo still produces ``demo-results.json``, so a renamed key or a changed number in a stage fails
there, with this command as the fix::

    .venv/bin/python tests/data/record_results.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from otel_impact.records import Result

HERE = Path(__file__).resolve().parent
RECORDED = HERE / "recorded"
DEMO = RECORDED / "demo-results.json"
LLM = RECORDED / "llm-results.json"
USERS, DAYS, SEED = 2000, 30, 3
END = datetime(2026, 11, 20, tzinfo=UTC)
EVALUATION = {  # the `evaluation:` section of an impact.yaml: one feature that ships, one to iterate on
    "features": [
        {"name": "ranker", "offline": {"name": "ndcg", "value": 0.41, "threshold": 0.3},
         "online": {"lift": "purchase", "threshold": 0.05}},
        {"name": "ranker-ctr", "offline": {"name": "ndcg", "value": 0.41, "threshold": 0.3},
         "online": {"series": "ctr", "threshold": 0.5}},
    ]
}  # fmt: skip


def normalise(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with run-specific values fixed and the series thinned (see the module doc)."""
    out = {k: v for k, v in doc.items() if k != "planted_vs_recovered"}
    if isinstance(out.get("run"), dict):
        run = dict(out["run"])
        run["id"] = "recorded"
        run["started"] = out.get("window", {}).get("end")
        run.pop("stage_seconds", None)  # wall-clock times: different on every run
        out["run"] = run
    series = out.get("series")
    if isinstance(series, list):
        seen: set[tuple[Any, Any]] = set()
        kept = []
        for s in series:
            key = (s.get("kind"), s.get("name"))
            if key not in seen:
                seen.add(key)
                kept.append(s)
        out["series"] = kept
    return out


def demo_document(result: Result) -> dict[str, Any]:
    """What ``demo-results.json`` holds for a demo run's analysis result: the evaluation section
    added as the job adds it, then :func:`normalise`, through JSON (as written to the file)."""
    from otel_impact.config import config_from_dict
    from otel_impact.evaluation import evaluate

    evaluation = evaluate(config_from_dict({"evaluation": EVALUATION}).evaluation.features, result)
    doc = result.model_copy(update={"evaluation": evaluation}).to_json()
    data: dict[str, Any] = json.loads(json.dumps(normalise(doc), sort_keys=True, allow_nan=True))
    return data


def load(path: Path = DEMO) -> dict[str, Any]:
    """A fresh copy of a recorded document."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def dump(doc: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, sort_keys=True, allow_nan=True) + "\n", encoding="utf-8")


def main() -> None:
    from otel_impact.demo.run import DemoOptions, run_demo

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        outcome = run_demo(
            DemoOptions(users=USERS, days=DAYS, seed=SEED, dsn="chdb://memory", database="otel_impact_demo_recorded",
                        out=out, end=END, llm=True),
            progress=lambda line: print(line, file=sys.stderr),
        )  # fmt: skip
        if outcome.llm is None:
            sys.exit("the LLM part did not run: install the development extras (pip install -e '.[dev]')")
        dump(demo_document(outcome.result), DEMO)
        dump(normalise(json.loads((out / "llm-results.json").read_text(encoding="utf-8"))), LLM)
    print(f"wrote {DEMO.relative_to(HERE.parent.parent)} and {LLM.relative_to(HERE.parent.parent)}")


if __name__ == "__main__":
    main()
