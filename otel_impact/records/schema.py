"""The published JSON Schema of the result document, generated from the records.

``python -m otel_impact.records.schema [PATH]`` prints the schema, or writes it to ``PATH``
(``make docs`` writes ``docs/result-schema.json``; a test checks the file is up to date and that
the documents the real pipeline produces validate against it). ``--records PAGE.md`` writes the
table of record types between the ``records`` markers of a Markdown page
(``docs/architecture.md``).

``RESULT_SCHEMA_VERSION`` is the contract's version: bump the major number when a key is removed
or renamed or its type narrows, the minor number when a key or section is added.
"""

from __future__ import annotations

import json
import sys
import typing
from pathlib import Path
from typing import Any

from otel_impact.docpage import replace_between
from otel_impact.records.base import Record
from otel_impact.records.result import Result

START, END = "<!-- records:start -->", "<!-- records:end -->"

RESULT_SCHEMA_VERSION = "1.0"
SCHEMA_ID = f"https://otel-impact.dev/schemas/result/{RESULT_SCHEMA_VERSION}/result.schema.json"


def result_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``Result.to_json()``."""
    schema = Result.model_json_schema(by_alias=True, mode="serialization")
    head: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "otel-impact analysis result",
        "version": RESULT_SCHEMA_VERSION,
    }
    schema.pop("title", None)
    return {**head, **schema}


def render() -> str:
    return json.dumps(result_schema(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def _record_of(annotation: Any) -> type[Record] | None:
    """The record a section holds (``list[Lift]`` → ``Lift``; ``KpiTable | None`` → ``KpiTable``)."""
    if isinstance(annotation, type) and issubclass(annotation, Record):
        return annotation
    for arg in typing.get_args(annotation):
        found = _record_of(arg)
        if found is not None:
            return found
    return None


def _is_list(annotation: Any) -> bool:
    if typing.get_origin(annotation) is list:
        return True
    return any(_is_list(arg) for arg in typing.get_args(annotation))


def records_table() -> str:
    """A Markdown table: each section of :class:`Result`, its record type and what it holds."""
    lines = ["| section (JSON key) | record | holds |", "|---|---|---|"]
    for name, info in Result.model_fields.items():
        record = _record_of(info.annotation)
        shape = "" if record is None else f"`{record.__name__}`"
        if record is not None and _is_list(info.annotation):
            shape = f"list of {shape}"
        doc = (record.__doc__ or "").strip().split("\n\n")[0] if record else info.description or ""
        doc = " ".join(doc.split()).replace("``", "`")
        lines.append(f"| `{name}` | {shape or 'list of text'} | {doc} |")
    return "\n".join(lines) + "\n"


def replace_records(page: str, table: str) -> str:
    """``page`` with the text between the records markers replaced by ``table``."""
    return replace_between(page, START, END, table)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2 and args[0] == "--records":
        page = Path(args[1])
        page.write_text(replace_records(page.read_text(encoding="utf-8"), records_table()), encoding="utf-8")
        return 0
    if len(args) > 1:
        sys.stderr.write("usage: python -m otel_impact.records.schema [PATH | --records PAGE.md]\n")
        return 2
    text = render()
    if args:
        Path(args[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
