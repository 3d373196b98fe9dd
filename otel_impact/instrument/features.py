"""Feature-vector hashing and opt-in per-feature numeric summaries.

``feature_hash`` gives a stable 64-bit fingerprint of a feature vector (or mapping) so the analyzer
can measure drift and novelty without storing features. It is identical across processes, platforms
and Python versions: values are encoded canonically and hashed with BLAKE2b (digest size 8).

Canonical encoding (each value is self-delimiting, so concatenation is unambiguous):

* ``None`` → ``N``; ``True``/``False`` → ``T``/``F``
* integers → ``i<decimal>;``
* other reals → ``f`` + IEEE-754 big-endian double; ``-0.0`` is encoded as ``0.0`` and every NaN
  as ``n`` so equal-looking vectors hash equally
* strings → ``s<utf-8 byte length>:<utf-8 bytes>``
* a sequence of only finite floats (the usual feature vector) → ``D<n>:`` + the n doubles packed
  big-endian (``-0.0`` as ``0.0``) — produced in C, so a 256-float vector hashes in a few µs
* any other sequence → ``[`` + elements + ``]``; a mapping → ``{`` + (key, value) pairs sorted by
  key + ``}``
* objects with ``tolist()`` (numpy arrays and scalars) are converted first, without importing
  numpy; other ``numbers.Integral`` / ``numbers.Real`` become ``int`` / ``float``, so a numpy array,
  a list of numpy scalars and the same list of Python floats hash alike

Note ``1`` and ``1.0`` hash differently (int vs float); pass the types your service really uses.

>>> feature_hash([0.3, 1.0])
'8d4beebf63791b18'
"""

from __future__ import annotations

import math
import numbers
import struct
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from hashlib import blake2b

_pack_double = struct.Struct(">d").pack
_SHORT = 16  # vectors up to this length take the one-pass encoding in _encode_flat


def _encode(value: object, out: list[bytes], depth: int = 0) -> None:
    if depth > 32:
        raise ValueError("features: nesting deeper than 32 levels")
    if value is None:
        out.append(b"N")
    elif value is True:
        out.append(b"T")
    elif value is False:
        out.append(b"F")
    elif isinstance(value, str):
        raw = value.encode("utf-8")
        out.append(b"s%d:" % len(raw))
        out.append(raw)
    elif isinstance(value, int):
        out.append(b"i%d;" % value)
    elif isinstance(value, float):
        out.append(_encode_float(value))
    elif isinstance(value, Mapping):
        out.append(b"{")
        for key in sorted(value, key=str):
            _encode(str(key), out, depth + 1)
            _encode(value[key], out, depth + 1)
        out.append(b"}")
    elif hasattr(value, "tolist") and not isinstance(value, bytes | bytearray):
        _encode(value.tolist(), out, depth + 1)
    elif isinstance(value, numbers.Integral):
        out.append(b"i%d;" % int(value))
    elif isinstance(value, numbers.Real):
        out.append(_encode_float(float(value)))
    elif isinstance(value, list | tuple) or (
        isinstance(value, Iterable) and not isinstance(value, bytes | bytearray | set | frozenset)
    ):
        items = [_normalise(item) for item in value]
        dense = _encode_dense(items)
        if dense is not None:
            out.append(dense)
            return
        out.append(b"[")
        for item in items:
            _encode(item, out, depth + 1)
        out.append(b"]")
    else:
        raise TypeError(f"features: cannot hash a value of type {type(value).__name__}")


def _encode_float(value: float) -> bytes:
    if math.isnan(value):
        return b"n"
    return b"f" + _pack_double(value + 0.0)  # + 0.0 folds -0.0 into 0.0


def _normalise(value: object) -> object:
    """Plain Python scalars for numpy/numbers types, so every route to a value encodes it alike."""
    t = type(value)
    if t is float or t is int or t is str or value is None or t is bool:
        return value
    if hasattr(value, "tolist") and not isinstance(value, bytes | bytearray):
        return value.tolist()
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return value


@lru_cache(maxsize=64)
def _dense_struct(n: int) -> struct.Struct:
    return struct.Struct(f">{n}d")


def _encode_dense(values: list[object] | tuple[object, ...]) -> bytes | None:
    """``D<n>:`` + packed doubles when every element is a finite ``float``, else ``None``."""
    if not values or set(map(type, values)) != {float}:
        return None
    total = sum(values)  # type: ignore[arg-type]
    if total - total != 0.0:  # a NaN or an infinity somewhere: encoded element-wise instead
        return None
    if 0.0 in values:  # only then can a -0.0 be present; fold it into 0.0
        values = [v + 0.0 for v in values]  # type: ignore[operator]
    return b"D%d:" % len(values) + _dense_struct(len(values)).pack(*values)


def _encode_flat(values: list[object] | tuple[object, ...]) -> tuple[bytes, int] | None:
    """Fast path for a flat vector of floats/ints/None/str: (encoding, missing count), else ``None``.

    Long vectors try the C-packed dense form first; short ones are encoded in one Python pass that
    notices on the way whether the dense form applies (cheaper than checking the types up front).
    """
    if len(values) > _SHORT:
        dense = _encode_dense(values)
        if dense is not None:
            return dense, 0
    out = [b"["]
    append = out.append
    missing = 0
    all_finite_floats = True
    for v in values:
        t = type(v)
        if t is float:
            if v - v != 0.0:  # type: ignore[operator]  # NaN or ±inf: never the dense form
                all_finite_floats = False
                if v != v:
                    append(b"n")
                    missing += 1
                    continue
            append(b"f" + _pack_double(v + 0.0))  # type: ignore[operator]
            continue
        all_finite_floats = False
        if v is None:
            append(b"N")
            missing += 1
        elif t is int:
            append(b"i%d;" % v)  # type: ignore[str-format]
        elif t is str:
            raw = v.encode("utf-8")  # type: ignore[attr-defined]
            append(b"s%d:" % len(raw))
            append(raw)
        else:
            return None
    if all_finite_floats and values:  # short all-float vector: the dense form, as above
        return b"D%d:" % len(values) + _dense_struct(len(values)).pack(*[v + 0.0 for v in values]), 0  # type: ignore[operator]
    append(b"]")
    return b"".join(out), missing


def feature_fingerprint(features: object) -> tuple[str, int | None]:
    """(``feature_hash(features)``, ``missing_count(features)``) in one pass where possible."""
    if type(features) is not list and type(features) is not tuple and hasattr(features, "tolist"):
        features = features.tolist()  # numpy arrays, without importing numpy
    flat = _encode_flat(features) if type(features) is list or type(features) is tuple else None  # type: ignore[arg-type]
    if flat is not None:
        return blake2b(flat[0], digest_size=8).hexdigest(), flat[1]
    return feature_hash(features), missing_count(features)


def feature_hash(features: object) -> str:
    """Stable 64-bit hex fingerprint of ``features`` (sequence, mapping, array or scalar).

    Raises ``TypeError`` for values with no canonical encoding (callers in the instrumentation
    catch it and omit the attribute).
    """
    flat = _encode_flat(features) if type(features) is list or type(features) is tuple else None  # type: ignore[arg-type]
    if flat is not None:
        return blake2b(flat[0], digest_size=8).hexdigest()
    out: list[bytes] = []
    _encode(features, out)
    return blake2b(b"".join(out), digest_size=8).hexdigest()


def missing_count(features: object) -> int | None:
    """Number of missing values (``None`` or NaN) in a flat sequence or mapping, else ``None``."""
    values: Iterable[object]
    if isinstance(features, Mapping):
        values = features.values()
    elif isinstance(features, list | tuple):
        values = features
    else:
        return None
    return sum(1 for v in values if v is None or (isinstance(v, float) and math.isnan(v)))


@dataclass(slots=True)
class FeatureStats:
    """Running statistics of one feature over the current summary window."""

    count: int = 0
    missing: int = 0
    total: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf

    def add(self, value: object) -> None:
        self.count += 1
        if value is None or isinstance(value, bool) or not isinstance(value, numbers.Real):
            if value is None:
                self.missing += 1
            return
        x = float(value)
        if math.isnan(x):
            self.missing += 1
            return
        self.total += x
        self.minimum = min(self.minimum, x)
        self.maximum = max(self.maximum, x)

    @property
    def mean(self) -> float:
        observed = self.count - self.missing
        return self.total / observed if observed else math.nan


class FeatureSummaries:
    """Bounded per-(model, version, feature) statistics, drained into ``ml.feature.summary`` events.

    At most ``max_features`` features are tracked per model version; further feature names are
    ignored. ``observe`` returns ``True`` when ``interval_ns`` has elapsed since the window opened
    (measured on the prediction timestamps, so simulated time works), telling the caller to
    ``drain()`` and emit.
    """

    def __init__(self, max_features: int, interval_ns: int) -> None:
        self.max_features = max_features
        self.interval_ns = interval_ns
        self._lock = threading.Lock()
        self._stats: dict[tuple[str, str], dict[str, FeatureStats]] = {}
        self._window_start: int | None = None

    def observe(self, model: str, version: str, features: Mapping[object, object], now_ns: int) -> bool:
        with self._lock:
            per_model = self._stats.setdefault((model, version), {})
            for key, value in features.items():
                name = str(key)
                stats = per_model.get(name)
                if stats is None:
                    if len(per_model) >= self.max_features:
                        continue
                    stats = per_model[name] = FeatureStats()
                stats.add(value)
            if self._window_start is None:
                self._window_start = now_ns
                return False
            return now_ns - self._window_start >= self.interval_ns

    def drain(self) -> list[tuple[str, str, str, FeatureStats]]:
        """Return and reset every tracked statistic as (model, version, feature, stats)."""
        with self._lock:
            stats, self._stats = self._stats, {}
            self._window_start = None
        return [(m, v, name, s) for (m, v), per in stats.items() for name, s in per.items()]
