"""Render a report in Debian's headless Chromium and check its layout through the DOM.

A small script is appended to a copy of the report; it measures the laid-out page (1400 px
wide) and writes its findings as JSON into the DOM, which ``--dump-dom`` prints. No network
(file:// page, background networking off), a throw-away profile directory.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
         "--window-size=1400,1000"]  # fmt: skip
MAX_CELL = 200

CHECK_JS = r"""
(function () {
  const out = {errors: [], charts: 0, cells: 0};
  const err = (m) => { if (out.errors.length < 40) out.errors.push(m); };
  const doc = document.documentElement, vw = doc.clientWidth;
  out.width = vw;
  out.height = doc.scrollHeight;
  if (doc.scrollWidth > vw + 1) err('page is ' + doc.scrollWidth + ' px wide in a ' + vw + ' px window');
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > vw + 1) err('overflows horizontally: <' + el.tagName.toLowerCase() + '> right edge ' + Math.round(r.right));
  }
  const first = document.querySelector('section');
  out.first_section = first ? first.id : null;
  const h = document.getElementById('sec-headline');
  out.headline_top = h ? Math.round(h.getBoundingClientRect().top) : null;
  document.querySelectorAll('svg.chart').forEach((svg, i) => {
    out.charts++;
    const name = 'chart ' + i + ' (' + (svg.getAttribute('aria-label') || '') + ')';
    const box = svg.getBoundingClientRect();
    const xs = svg.querySelectorAll('text.tick-x'), ys = svg.querySelectorAll('text.tick-y');
    if (xs.length < 1 || ys.length < 1) err(name + ': tick labels missing (x ' + xs.length + ', y ' + ys.length + ')');
    for (const t of svg.querySelectorAll('text')) {
      const r = t.getBoundingClientRect();
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1)
        err(name + ': label cut by the chart edge: "' + t.textContent + '"');
      if (t.textContent.endsWith('…')) err(name + ': truncated label "' + t.textContent + '"');
    }
    for (const cls of ['tick-x', 'tick-y', 'legend', 'label']) {
      const seen = new Set();
      for (const t of svg.querySelectorAll('text.' + cls)) {
        const s = t.textContent.trim();
        if (s && seen.has(s)) err(name + ': duplicated ' + cls + ' label "' + s + '"');
        seen.add(s);
      }
    }
  });
  for (const td of document.querySelectorAll('td')) {
    out.cells++;
    if (td.textContent.length > MAX_CELL) err('table cell of ' + td.textContent.length + ' characters: ' + td.textContent.slice(0, 80));
  }
  const pre = document.createElement('pre');
  pre.id = 'layout-check';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
""".replace("MAX_CELL", str(MAX_CELL))


def check_layout(report: Path, workdir: Path) -> dict[str, Any]:
    """Render ``report`` at 1400 px in headless Chromium; the check script's findings."""
    page = workdir / "report-check.html"
    text = report.read_text(encoding="utf-8")
    page.write_text(text.replace("</body>", f"<script>{CHECK_JS}</script></body>"), encoding="utf-8")
    profile = workdir / "chromium-profile"
    try:
        proc = subprocess.run(
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = re.search(r'<pre id="layout-check">(.*?)</pre>', proc.stdout, re.S)
    assert found, "the layout check did not run: " + proc.stderr[-2000:]
    result: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return result


def screenshot(report: Path, png: Path, workdir: Path, height: int = 1100) -> None:
    """A PNG of the top of ``report`` at 1400 px wide."""
    profile = workdir / "chromium-profile-shot"
    try:
        subprocess.run(
            [
                str(CHROMIUM),
                *FLAGS[:-1],
                f"--window-size=1400,{height}",
                f"--user-data-dir={profile}",
                f"--screenshot={png}",
                report.as_uri(),
            ],
            capture_output=True,
            timeout=120,
            check=True,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
