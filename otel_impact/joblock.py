"""The analyzer job lock: at most one holder per job name, renewed while its run is alive.

The lock lives in the append-only table ``impact_job_lock``. A row is a *claim* (``released = 0``,
first row of a token), a *renewal* (further ``released = 0`` rows of the token, each pushing
``expires_at``) or a *release* (``released = 1``). A token is **live** while it has no release row
and its latest ``expires_at`` lies in the future; a live token with a renewal row is *confirmed*.

**Acquire** (:meth:`JobLock.acquire`):

1. read the live tokens; a confirmed one is the holder → :class:`LockedError` naming it;
2. insert our claim;
3. re-read: we hold the lock only if **no other token is live** — then a renewal row confirms
   the claim. Otherwise we release our claim, and either refuse (someone is confirmed) or back
   off for a random few milliseconds and try again (several claims raced and none is
   confirmed yet).

Why two claimants can never both hold: each of them inserted its claim before its re-read. Of
the two inserts, the later one happened after the earlier one committed, so the later
claimant's re-read sees the earlier claim — still live, because a claimant only releases after
it lost — and it backs off. Insert order, clock skew between claimants or an earlier
``acquired_at`` change nothing: the decision rests on what the re-read sees, never on sorting
timestamps. (It needs reads that see every insert that finished before them: any single
ClickHouse server or chDB; on a replicated cluster run the job against one replica, or with
``insert_quorum`` and ``select_sequential_consistency``.) When several claims race, all may back
off; the random back-off makes one of them win a later attempt.

**Renew** (:meth:`JobLock.renew_if_due`, called between the stages of a run): every third of
``ttl`` a renewal row moves ``expires_at`` to now + ``ttl``. A renewal only counts if it is in
the table before the previous expiry (minus a margin for clock skew between hosts); when it is
late, a stale takeover may already have happened, so the run learns it **lost** the lock
(:class:`LockedError`) and stops before exporting anything.

**Stale takeover.** A run killed without releasing stops renewing; ``ttl`` after its last renewal
its token is no longer live and the next claimant takes the lock over.

>>> lock = JobLock(client=None, job="impact", ttl=600)
>>> lock.renew_interval
200.0
"""

from __future__ import annotations

import contextlib
import getpass
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from otel_impact.errors import LockedError, StoreError
from otel_impact.store.client import StoreClient
from otel_impact.store.jobstate import read_lock_claims, write_lock_row


@dataclass(frozen=True)
class Claim:
    """One live token of a job's lock, as the claims query returns it."""

    token: str
    owner: str
    host: str
    pid: int
    acquired_at: datetime
    expires_at: datetime
    confirmed: bool

    def describe(self) -> str:
        return (
            f"{self.owner}@{self.host} pid {self.pid} since {self.acquired_at:%Y-%m-%d %H:%M:%S} UTC "
            f"(expires {self.expires_at:%Y-%m-%d %H:%M:%S} UTC)"
        )


class JobLock:
    """The lock of one analyzer job (see the module docstring for the protocol).

    ``clock`` (seconds since the epoch) stamps claims and judges expiry; hosts sharing a store
    need synchronised clocks (NTP), as for any lease. ``attempts`` bounds the back-off retries
    when claims race; ``rng`` draws the back-off.
    """

    def __init__(
        self,
        client: StoreClient,
        job: str,
        ttl: float,
        clock: Callable[[], float] = time.time,
        *,
        attempts: int = 8,
        backoff: float = 0.005,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if ttl <= 0:
            raise ValueError(f"ttl must be positive, got {ttl!r}")
        self.client = client
        self.job = job
        self.ttl = float(ttl)
        self.clock = clock
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.rng = rng or random.Random()
        self.sleep = sleep
        self.token = uuid.uuid4().hex
        self.held = False
        self.acquired_at = 0.0
        self.expires_at = 0.0
        self.renewed_at = 0.0

    @property
    def renew_interval(self) -> float:
        """Seconds between renewals: a third of ``ttl``."""
        return self.ttl / 3.0

    @property
    def margin(self) -> float:
        """A renewal landing later than ``expires_at - margin`` counts as late (clock skew)."""
        return min(5.0, self.ttl / 10.0)

    # -- store access -------------------------------------------------------------------------

    def claims(self) -> list[Claim]:
        """Live tokens of this job, confirmed first, then by (acquired_at, token)."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        rows = read_lock_claims(self.client, self.job, now)
        return [Claim(str(r[0]), str(r[1]), str(r[2]), int(r[3]), r[4], r[5], bool(r[6])) for r in rows]

    def _insert(self, released: int, acquired: float, expires: float | None = None) -> None:
        row = [
            self.job,
            self.token,
            _owner(),
            socket.gethostname(),
            os.getpid(),
            datetime.fromtimestamp(acquired, UTC),
            datetime.fromtimestamp(acquired + self.ttl if expires is None else expires, UTC),
            released,
        ]
        write_lock_row(self.client, row)

    def _refuse(self, holder: Claim) -> LockedError:
        return LockedError(
            f"another analyzer run holds the lock of job {self.job!r}: {holder.describe()}; "
            "wait for it to finish, or let the claim expire (job.lock_ttl)"
        )

    # -- protocol -----------------------------------------------------------------------------

    def try_claim(self) -> list[Claim]:
        """Steps 2–3 of the protocol: insert a claim, re-read, hold only when alone.

        Returns the other live tokens seen by the re-read (empty when the lock is now held). Every
        attempt claims under a fresh token (a released token never comes back to life).
        """
        self.token = uuid.uuid4().hex
        now = self.clock()
        self._insert(0, now)
        live = self.claims()
        others = [c for c in live if c.token != self.token]
        mine_live = any(c.token == self.token for c in live) and self.clock() < now + self.ttl - self.margin
        if others or not mine_live:
            self._insert(1, self.clock())
            return others
        self.held = True
        self.acquired_at = now
        self.renewed_at = now
        self.expires_at = now + self.ttl
        self._insert(0, now, self.expires_at)  # the confirmation row
        return []

    def acquire(self) -> None:
        """Take the lock or raise :class:`LockedError` (a holder exists, or contention persisted)."""
        if self.held:
            return
        seen: list[Claim] = []
        for attempt in range(self.attempts):
            live = self.claims()
            confirmed = [c for c in live if c.confirmed and c.token != self.token]
            if confirmed:
                raise self._refuse(confirmed[0])
            if not live:
                seen = self.try_claim()
                if self.held:
                    return
                confirmed = [c for c in seen if c.confirmed]
                if confirmed:
                    raise self._refuse(confirmed[0])
            else:
                seen = live
            self.sleep(self.rng.uniform(0, self.backoff * 2**attempt))
        if seen:
            raise LockedError(
                f"could not take the lock of job {self.job!r}: {len(seen)} other claim(s) in the way, "
                f"first {seen[0].describe()}; try again"
            )
        raise LockedError(f"could not take the lock of job {self.job!r}; try again")

    def renew_if_due(self) -> bool:
        """Renew when a third of ``ttl`` has passed since the last renewal; True if it renewed.

        Raises :class:`LockedError` when the lock was lost (a renewal came too late to be sure no
        stale takeover happened); the caller must stop without publishing anything.
        """
        if not self.held:
            return False
        now = self.clock()
        if now - self.renewed_at < self.renew_interval:
            return False
        self.renew()
        return True

    def renew(self) -> None:
        """Push ``expires_at`` to now + ``ttl`` (see :meth:`renew_if_due`)."""
        if not self.held:
            raise LockedError(f"the lock of job {self.job!r} is not held")
        start = self.clock()
        deadline = self.expires_at - self.margin
        if start < deadline:
            self._insert(0, self.acquired_at, start + self.ttl)
        if self.clock() >= deadline:
            self._lost(start)
        self.renewed_at = start
        self.expires_at = start + self.ttl

    def _lost(self, at: float) -> None:
        self.held = False
        with contextlib.suppress(StoreError):  # else the claim expires on its own
            self._insert(1, at)
        raise LockedError(
            f"the analyzer run lost the lock of job {self.job!r}: it was not renewed before it "
            f"expired (job.lock_ttl {self.ttl:g}s is shorter than a stage of the run); nothing "
            "was exported"
        )

    def check(self) -> None:
        """Renew if due and raise :class:`LockedError` if the lock is no longer held."""
        if not self.held:
            raise LockedError(f"the lock of job {self.job!r} is not held")
        self.renew_if_due()
        if self.clock() >= self.expires_at - self.margin:
            self._lost(self.clock())

    def release(self) -> None:
        """Give the lock up (a release row); harmless when not held."""
        if self.held:
            self.held = False
            self._insert(1, self.clock())


def _owner() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


__all__ = ["Claim", "JobLock"]
