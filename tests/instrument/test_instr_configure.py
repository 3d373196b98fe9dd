"""``otel_impact.configure()``: the README's quickstart snippet as a plain ``python`` script.

The snippet is taken verbatim from README.md and run in a fresh interpreter against the embedded
receiver: with ``configure()`` its spans and events are stored; without it nothing is sent and
the no-SDK warning is printed exactly once, however many predictions and events are recorded.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from otel_impact.instrument.sdk import NO_SDK_WARNING
from otel_impact.receive import Receiver

README = Path(__file__).resolve().parents[2] / "README.md"
CONFIGURE_LINE = re.compile(r"^otel_impact\.configure\(.*\n", re.M)


def quickstart() -> str:
    """The first Python block of the README that calls ``otel_impact.configure(``."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    found = [b for b in blocks if "otel_impact.configure(" in b]
    assert found, "README.md has no Python block calling otel_impact.configure()"
    return found[0]


def run_script(code: str, tmp_path: Path, endpoint: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "quickstart.py"
    script.write_text(code, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
    env["OTEL_BSP_SCHEDULE_DELAY"] = env["OTEL_BLRP_SCHEDULE_DELAY"] = "100"
    return subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


def stored(client: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    spans = client.query("SELECT ServiceName, SpanName FROM otel_traces ORDER BY ALL").result_rows
    events = client.query(
        "SELECT ServiceName, EventName FROM otel_logs WHERE EventName != '' ORDER BY ALL"
    ).result_rows
    return spans, events


def test_quickstart_with_configure_is_stored(store: Any, tmp_path: Path) -> None:
    code = quickstart()
    with Receiver(store, http="127.0.0.1:0", grpc=None) as rx:
        done = run_script(code, tmp_path, str(rx.endpoints.http))
        assert done.returncode == 0, done.stderr
        rx.flush()
        spans, events = stored(store)
    service = re.search(r'configure\(service_name="([^"]+)"\)', code)
    assert service, "the snippet names its service"
    assert spans == [(service.group(1), "predict ranker")]
    assert (service.group(1), "business.purchase") in events
    assert NO_SDK_WARNING not in done.stderr


def test_without_configure_the_warning_is_printed_once(store: Any, tmp_path: Path) -> None:
    code = CONFIGURE_LINE.sub("", quickstart())
    assert "configure(" not in code
    code += "\n" + code[code.index("with track_prediction") :]  # record twice: still one warning
    with Receiver(store, http="127.0.0.1:0", grpc=None) as rx:
        done = run_script(code, tmp_path, str(rx.endpoints.http))
        assert done.returncode == 0, done.stderr
        rx.flush()
        assert stored(store) == ([], [])  # nothing reached the receiver
    assert done.stderr.count(NO_SDK_WARNING) == 1, done.stderr


def test_configure_is_idempotent_and_keeps_installed_providers(tmp_path: Path) -> None:
    code = (
        "import otel_impact\n"
        "from opentelemetry import trace\n"
        "from opentelemetry.sdk.trace import TracerProvider\n"
        "mine = TracerProvider()\n"
        "trace.set_tracer_provider(mine)\n"
        "first = otel_impact.configure(service_name='svc', endpoint='http://127.0.0.1:9')\n"
        "assert otel_impact.configure() is first\n"
        "assert first.tracer_provider is None and trace.get_tracer_provider() is mine\n"
        "assert first.logger_provider is not None and first.meter_provider is not None\n"
        "assert first.service_name == 'svc' and first.protocol == 'http/protobuf'\n"
        "first.shutdown()\n"
    )
    done = run_script(code, tmp_path, "http://127.0.0.1:9")
    assert done.returncode == 0, done.stderr


def test_configure_rejects_an_unknown_protocol_before_installing_anything() -> None:
    from opentelemetry import trace

    from otel_impact.instrument.sdk import configure

    before = trace.get_tracer_provider()
    with pytest.raises(ValueError, match="protocol"):
        configure(protocol="thrift")
    assert trace.get_tracer_provider() is before
