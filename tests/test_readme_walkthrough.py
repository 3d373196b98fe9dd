"""The README's "Your own data in 10 minutes", run verbatim as a new user would.

Its shell and Python blocks are taken from README.md as they stand: the collector starts in the
background on a fresh embedded store, the example service sends predictions, outcomes and
purchases through the real SDK and OTLP, the collector stops, and the analyzer runs with
``--report``. It must exit 0, write the report and attribute outcomes to predictions — with no
collector running and no ``--no-export`` (the results go into the store).

The walkthrough owns the embedded store, so it runs in a subprocess (this process already holds
the session's chDB engine); it binds the documented port 4318 and is skipped when another
process holds that port.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parent.parent / "README.md"
SECTION = "## Your own data in 10 minutes"


def walkthrough() -> tuple[str, dict[str, str]]:
    """(the shell blocks joined in order, {file name: Python block}) of the README section."""
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.index("\n## ", start + 1)
    shell, files = [], {}
    for lang, body in re.findall(r"```(sh|python)\n(.*?)```", text[start:end], re.S):
        if lang == "sh":
            shell.append(body)
        else:
            name = re.match(r"# (\S+\.py)\n", body)
            assert name, "each Python block of the walkthrough starts with '# <file>.py'"
            files[name.group(1)] = body
    return "".join(shell), files


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_walkthrough_blocks_run_verbatim(tmp_path: Path) -> None:
    script, files = walkthrough()
    assert "otel-impact collect" in script and "otel-impact analyze" in script and "--report" in script
    assert set(files) == {"shop.py"} and "python shop.py" in script
    if shutil.which("curl") is None:
        pytest.skip("the walkthrough waits for the collector with curl, which is not installed")
    if not _port_free(4318):
        pytest.skip("another process listens on 127.0.0.1:4318, the walkthrough's collector port")
    for name, body in files.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    (tmp_path / "walkthrough.sh").write_text("set -e\n" + script, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "VIRTUAL_ENV"))}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    done = subprocess.run(
        ["bash", "walkthrough.sh"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = tmp_path / "report.html"
    assert report.exists() and report.stat().st_size > 1000
    # the analyzer's summary line: outcomes of the business metric attributed to predictions
    row = re.search(r"purchase\s+outcomes\s+(\d+)\s+attributed\s+(\d+)", done.stdout)
    assert row, done.stdout
    outcomes, attributed = int(row.group(1)), int(row.group(2))
    assert outcomes > 50 and attributed == outcomes  # every purchase follows one of its user's predictions
    assert "last_touch" in report.read_text(encoding="utf-8")
    # results were written into the store: no collector, no --no-export, exit 0
    assert re.search(r"exported [1-9]\d* point\(s\)", done.stdout), done.stdout
    assert "Failed to export" not in done.stderr
