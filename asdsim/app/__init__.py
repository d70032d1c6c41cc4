"""The web app for commissioners (``asdsim app``): pick a scenario, move the levers, run, read.

The page is :mod:`asdsim.app.page`, a Streamlit script; everything it does that is not drawing is
here, in modules that import no Streamlit and are tested on their own:

- :mod:`asdsim.app.engine`: one bounded pool of worker processes shared by every session, a queue
  of at most N simulations at once, and a cache of finished runs by scenario hash, seed and
  replications;
- :mod:`asdsim.app.sources`: the scenarios to start from, and uploads read with the CLI's limits;
- :mod:`asdsim.app.levers`: the levers, their units and base values, and the edited scenario;
- :mod:`asdsim.app.views`: tables, interactive charts and downloads built from results.

This package is the top layer: it may import every other layer, and none imports it.
"""
