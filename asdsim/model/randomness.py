"""Seeded random streams, one per named activity.

Every random draw in a run comes from a stream named after its activity ("arrivals", "dna",
"outcome", ...). A stream is derived from the run's seed, the replication number and a stable hash
of its name (not its position), so

* two scenarios run with the same seed draw the same numbers for the same activity (common random
  numbers), and
* adding a new activity adds a new stream without shifting any other.

Each child's uniforms for an activity are drawn as one table, in child order, from that
activity's stream (:class:`Draws`), so the same child meets the same luck in every scenario run
with the same seed. Nothing here touches NumPy's or Python's global random state.
"""

from __future__ import annotations

import hashlib

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


_SHAPES: dict[str, tuple[int, ...]] = {
    "triage": (TRIAGE_ATTEMPTS,),
    "rereferral": (TRIAGE_ATTEMPTS, 2),
    "information": (TRIAGE_ATTEMPTS, 2),
    "withdrawal": (),
    "review": (),
    "dna": (BOOKINGS,),
    "rebook": (DNAS,),
    "duration": (BOOKINGS,),
    "outcome": (2,),
    "session": (BOOKINGS,),
    "unmet": (),
}
"""Per activity, the shape of one child's pre-drawn uniforms."""


class Draws:
    """Each child's uniforms per activity, drawn in child order from the activity's stream.

    An activity's table (children by draws) is drawn when first read and kept: each activity
    has a stream of its own, so when its table is drawn changes none of its numbers, and a run
    that never meets an activity (durations in clinic-hours mode, reviews without a review
    rule) does not draw it. A draw past a table comes from the same stream, after the table.
    """

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

    def __init__(self, streams: Streams, n: int):
        self._streams = streams
        self._n = n

    @classmethod
    def make(cls, streams: Streams, n: int) -> Draws:
        """Every child's uniforms for every activity (each drawn when first read)."""
        return cls(streams, n)

    def __getattr__(self, name: str) -> np.ndarray:
        # called only for a table not drawn yet: draw it and keep it as an attribute
        shape = _SHAPES.get(name)
        if shape is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        table = self._streams[name].random((self._n, *shape))
        setattr(self, name, table)
        return table
