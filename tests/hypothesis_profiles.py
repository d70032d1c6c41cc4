"""Hypothesis profiles for the property tests, imported by each test module that uses hypothesis.

* ``ci`` (loaded when the environment variable ``CI`` is set, as CI services do): derandomized,
  so every CI run tries the same fixed examples and a failure is reproducible from the commit
  alone; no example database; no deadline (the machine is shared).
* ``dev`` (otherwise): random examples, a different sample every run, so local runs keep
  exploring; no deadline.

* ``mutation`` (set by ``scripts/mutation.sh``): derandomized and only a few examples, since
  every mutant reruns the property tests.

* ``fuzz`` (taken by tests/test_fuzz.py whatever the loaded profile): derandomized, no example
  database, a fixed number of examples per test (:data:`FUZZ_EXAMPLES`), so the tier runs the same
  inputs in a bounded time on every run and never fails by chance; no deadline (a shared machine
  would otherwise fail an example for being slow).

``HYPOTHESIS_PROFILE=ci`` (or ``dev``, ``mutation``) chooses a profile explicitly, whatever ``CI``
says.
Tests keep their own ``max_examples`` only where a profile should not decide it.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = 40
"""Examples per property test in both profiles."""

settings.register_profile(
    "ci", derandomize=True, database=None, max_examples=EXAMPLES, deadline=None,
    print_blob=True, suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev", max_examples=EXAMPLES, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "mutation", derandomize=True, database=None, max_examples=8, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

FUZZ_EXAMPLES = 100
"""Examples per fuzz test."""

settings.register_profile(
    "fuzz", derandomize=True, database=None, max_examples=FUZZ_EXAMPLES, deadline=None,
    print_blob=True, suppress_health_check=[HealthCheck.too_slow],
)

PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
settings.load_profile(PROFILE)
