"""Failure containment: instrumentation errors are logged once per site and never reach the host.

Every entry point of :mod:`otel_impact.instrument` wraps its own work in ``try``/``except`` and calls
:func:`log_once` on failure. The host's result (or the host's own exception) is always returned
unchanged; a broken segment callable or an unhashable feature costs one warning, not a request.
"""

from __future__ import annotations

import contextlib
import logging
import threading

logger = logging.getLogger("otel_impact.instrument")

_seen: set[str] = set()
_lock = threading.Lock()


def log_once(site: str, exc: BaseException | None = None) -> None:
    """Log a warning for ``site`` the first time it fails; later failures there are silent.

    ``site`` names the place that failed (e.g. ``"segment_from"``); the first exception's traceback
    is attached so the cause is visible without flooding the host's logs.
    """
    with _lock:
        if site in _seen:
            return
        _seen.add(site)
    with contextlib.suppress(Exception):  # logging itself broken: nothing more we can do safely
        logger.warning("otel-impact instrumentation failed in %s; continuing without it", site, exc_info=exc)


def reset_log_once() -> None:
    """Forget which sites already logged (tests use it to observe the next warning)."""
    with _lock:
        _seen.clear()
