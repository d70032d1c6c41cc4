"""JUnit XML of a regression check, for CI systems that show test results.

One test suite per scenario, one test case per KPI, plus one for the scenario's provenance (its
hash and the asdsim version match the stored ones). A scenario that could not be compared (no
expected file, invalid) is one test case with an ``error``; a KPI that moved beyond its
tolerance, is missing or is new is a ``failure``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from asdsim.checks.regress import RegressionReport
from asdsim.files import write_bytes_atomic

PROVENANCE_CASE = "provenance (scenario hash, asdsim version)"
"""Name of each scenario's provenance test case."""


def junit_xml(report: RegressionReport) -> bytes:
    """The report as JUnit XML (UTF-8, with an XML declaration)."""
    root = ET.Element("testsuites", name="asdsim regress")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for s in report.scenarios:
        suite = ET.SubElement(root, "testsuite", name=s.name)
        classname = f"asdsim.checks.regress.{s.name}"
        counts = {"tests": 0, "failures": 0, "errors": 0}
        if s.stored is not None:
            props = ET.SubElement(suite, "properties")
            for prop, text in (("scenario_file", str(s.path)), ("expected_file", str(s.expected_path)),
                               ("stored_hash", s.stored.scenario_hash), ("scenario_hash", s.new_hash),
                               ("stored_version", s.stored.asdsim_version),
                               ("asdsim_version", s.new_version), ("seed", str(s.stored.seed)),
                               ("replications", str(s.stored.replications)),
                               ("rule", "stored tolerance" if s.changed else "float precision")):
                ET.SubElement(props, "property", name=prop, value=text)
        counts["tests"] += 1
        if s.errored:
            case = ET.SubElement(suite, "testcase", classname=classname, name=PROVENANCE_CASE, time="0")
            error = ET.SubElement(case, "error", type=s.status.replace(" ", "_"),
                                  message=f"{s.status}: {s.problems[0] if s.problems else ''}")
            error.text = "\n".join(s.problems)
            counts["errors"] += 1
        else:
            case = ET.SubElement(suite, "testcase", classname=classname, name=PROVENANCE_CASE,
                                 time=f"{s.wall_seconds:.3f}")
            changes = [p for p in s.problems if "changed" in p]
            if changes:
                failure = ET.SubElement(case, "failure", type=s.status.replace(" ", "_"),
                                        message=changes[0])
                failure.text = "\n".join(changes)
                counts["failures"] += 1
            for k in s.kpis:
                case = ET.SubElement(suite, "testcase", classname=classname, name=k.kpi, time="0")
                counts["tests"] += 1
                if not k.passed:
                    failure = ET.SubElement(case, "failure", type=k.status, message=k.line())
                    failure.text = k.line()
                    counts["failures"] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", f"{s.wall_seconds:.3f}")
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{report.wall_seconds:.3f}")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def write_junit(report: RegressionReport, path: str | Path) -> Path:
    """Write :func:`junit_xml` to ``path`` atomically, making its folder if needed; returns it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_bytes_atomic(path, junit_xml(report))
