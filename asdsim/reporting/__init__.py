"""What a person reads: charts, the HTML report, and the results folder written to disk."""

import matplotlib as _matplotlib

# Names in charts come from scenario files: "$x$" in one is text, never mathtext (an invalid
# formula would otherwise stop the chart being drawn).
_matplotlib.rcParams["text.parse_math"] = False
