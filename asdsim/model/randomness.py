"""Seeded random streams, one per named activity.

Every random draw in a run comes from a stream named after its activity ("arrivals", "dna",
"outcome", ...). A stream is derived from the run's seed, the replication number and a stable hash
of its name (not its position), so

* two scenarios run with the same seed draw the same numbers for the same activity (common random
  numbers), and
* adding a new activity adds a new stream without shifting any other.

Each child's uniforms for the activities it meets are drawn before the run, in child order, from
those streams (:class:`Draws`), so the same child meets the same luck in every scenario run with
the same seed. Nothing here touches NumPy's or Python's global random state.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

TRIAGE_ATTEMPTS = 8
"""Triage decisions pre-drawn per child (later ones draw from the activity's stream)."""
BOOKINGS = 24
"""Appointments pre-drawn per child (DNA, duration, session uniforms)."""
DNAS = 8
"""Rebooking delays pre-drawn per child."""


def _name_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


class Streams:
    """The named random streams of one replication.

    Parameters
    ----------
    seed
        The run's seed.
    replication
        Replication number; each replication has its own independent streams.
    """

    def __init__(self, seed: int, replication: int):
        self.seed = int(seed)
        self.replication = int(replication)
        self._streams: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        """The generator of one activity, created on first use."""
        stream = self._streams.get(name)
        if stream is None:
            sequence = np.random.SeedSequence(
                entropy=self.seed, spawn_key=(self.replication, _name_key(name))
            )
            stream = self._streams[name] = np.random.Generator(np.random.PCG64(sequence))
        return stream


@dataclass(frozen=True)
class Draws:
    """Each child's uniforms per activity, drawn in child order from the activity's stream."""

    triage: np.ndarray
    rereferral: np.ndarray
    information: np.ndarray
    withdrawal: np.ndarray
    review: np.ndarray
    dna: np.ndarray
    rebook: np.ndarray
    duration: np.ndarray
    outcome: np.ndarray
    session: np.ndarray
    unmet: np.ndarray

    @classmethod
    def make(cls, streams: Streams, n: int) -> Draws:
        """Draw every child's uniforms for every activity."""
        return cls(
            triage=streams["triage"].random((n, TRIAGE_ATTEMPTS)),
            rereferral=streams["rereferral"].random((n, TRIAGE_ATTEMPTS, 2)),
            information=streams["information"].random((n, TRIAGE_ATTEMPTS, 2)),
            withdrawal=streams["withdrawal"].random(n),
            review=streams["review"].random(n),
            dna=streams["dna"].random((n, BOOKINGS)),
            rebook=streams["rebook"].random((n, DNAS)),
            duration=streams["duration"].random((n, BOOKINGS)),
            outcome=streams["outcome"].random((n, 2)),
            session=streams["session"].random((n, BOOKINGS)),
            unmet=streams["unmet"].random(n),
        )
