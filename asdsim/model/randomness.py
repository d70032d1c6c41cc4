"""Seeded random streams, one per named activity.

Every random draw in a run comes from a stream named after its activity ("arrivals", "dna",
"outcome", ...). A stream is derived from the run's seed, the replication number and a stable hash
of its name (not its position), so

* two scenarios run with the same seed draw the same numbers for the same activity (common random
  numbers), and
* adding a new activity adds a new stream without shifting any other.

Nothing here touches NumPy's or Python's global random state.
"""

from __future__ import annotations

import hashlib

import numpy as np


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
