"""From a replication's records to tables: the patient and weekly tables, KPIs, paired differences.

``record`` turns a finished model into plain arrays; ``kpis`` defines and computes every KPI;
``stats`` holds the confidence intervals and survival estimates; ``results`` is the tidy tables a
user sees; ``paired`` the differences between scenarios run under common random numbers.
"""
