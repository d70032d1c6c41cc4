"""Many areas in one run: an areas table, every area simulated alike, and totals taken the right way.

An areas table lists areas, each a scenario file and the fields it sets over it
(:mod:`~asdsim.experiments.areas.table`); every area runs with the same seed and replications
through the backends, resumably (:mod:`~asdsim.experiments.areas.run`); counts are summed and
shares pooled over children within each replication before the confidence interval is taken
(:mod:`~asdsim.experiments.areas.totals`). ``docs/areas.md`` describes the format and the files.
"""

from asdsim.experiments.areas.run import (
    HEADLINE_BASES,
    AreaDone,
    AreasResult,
    AreasRunError,
    end_label,
    resume_store,
    run_areas,
    store_path,
    write_areas,
)
from asdsim.experiments.areas.table import TABLE_NAME, Area, AreasError, AreaSet, load_areas, table_path
from asdsim.experiments.areas.totals import (
    ADDITIVE,
    TALLY_COLUMNS,
    replication_tallies,
    total_table,
    window_counts,
)

__all__ = ["ADDITIVE", "HEADLINE_BASES", "TABLE_NAME", "TALLY_COLUMNS", "Area", "AreaDone", "AreaSet",
           "AreasError", "AreasResult", "AreasRunError", "end_label", "load_areas",
           "replication_tallies", "resume_store", "run_areas", "store_path", "table_path",
           "total_table", "window_counts", "write_areas"]
