"""``asdsim app``: start the web app for commissioners (Streamlit), on this machine only by default.

The command line sits below the app in the layers, so this module does not import
:mod:`asdsim.app`: it names the page's file and hands the settings over through the environment
(:mod:`asdsim.app.settings` reads them).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
from pathlib import Path
from typing import Any

from asdsim.cli.console import EXIT_OK, EXIT_USAGE, err, out
from asdsim.cli.options import COUNT, FORMATTER, whole

PAGE = Path(__file__).resolve().parents[1] / "app" / "page.py"
"""The app's Streamlit script."""
EXTRA = 'pip install "asdsim[app]"'
SCENARIOS_ENV = "ASDSIM_APP_SCENARIOS"  # as asdsim.app.settings names them
MAX_CHILDREN_ENV = "ASDSIM_APP_MAX_CHILDREN"
WORKERS_ENV = "ASDSIM_APP_WORKERS"


def add_parser(subparsers: Any) -> None:
    """Register ``asdsim app`` on an argparse subparsers object (handler in ``func``)."""
    parser = subparsers.add_parser(
        "app", help="start the web app: pick a scenario, move the levers, run, read",
        formatter_class=FORMATTER,
        description="Start the web app for commissioners at http://HOST:PORT. It listens on this\n"
                    "machine only (127.0.0.1) unless --host says otherwise; to share it, put it\n"
                    "behind your organisation's sign-on through a reverse proxy (docs/app.md).\n"
                    f"Needs the app extra: {EXTRA}",
        epilog="Example:\n  asdsim app --port 8501 --scenarios my_scenarios/")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=whole(1, 65535), default=8501, help="port (default: 8501)")
    parser.add_argument("--scenarios", type=Path, metavar="DIR",
                        help="a folder of scenario files to offer beside the shipped ones")
    parser.add_argument("--workers", type=COUNT, metavar="N",
                        help="worker processes shared by every session, and simulations run at "
                             "once (default: one per CPU)")
    parser.add_argument("--max-children", type=COUNT, metavar="N",
                        help="largest run accepted, in children simulated over its replications "
                             "(default: 400,000)")
    parser.set_defaults(func=command)


def streamlit_args(args: argparse.Namespace) -> list[str]:
    """The ``streamlit run`` arguments for the parsed options."""
    return ["run", str(PAGE),
            "--server.address", args.host, "--server.port", str(args.port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none", "--server.runOnSave", "false",
            "--server.maxUploadSize", "50", "--client.toolbarMode", "viewer",
            "--client.showErrorDetails", "none",  # an unexpected error shows no traceback
            "--global.developmentMode", "false"]


def command(args: argparse.Namespace) -> int:
    """Run ``asdsim app`` from parsed arguments; returns the exit code when the server stops."""
    if not 0 < args.port < 65536:
        err(f"asdsim app: --port must be between 1 and 65535, got {args.port}")
        return EXIT_USAGE
    for name in ("workers", "max_children"):
        value = getattr(args, name)
        if value is not None and value < 1:
            err(f"asdsim app: --{name.replace('_', '-')} must be at least 1, got {value}")
            return EXIT_USAGE
    if args.scenarios is not None and not args.scenarios.is_dir():
        err(f"asdsim app: --scenarios {args.scenarios} is not a folder")
        return EXIT_USAGE
    if importlib.util.find_spec("streamlit") is None:
        err(f"asdsim app: the web app needs Streamlit; install it with {EXTRA}")
        return EXIT_USAGE
    if args.scenarios is not None:
        os.environ[SCENARIOS_ENV] = str(args.scenarios.resolve())
    if args.workers is not None:
        os.environ[WORKERS_ENV] = str(args.workers)
    if args.max_children is not None:
        os.environ[MAX_CHILDREN_ENV] = str(args.max_children)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        err(f"asdsim app: listening on {args.host}: anyone who can reach it can use the app; put "
            "it behind your organisation's sign-on (docs/app.md)")
    out(f"asdsim app: http://{args.host}:{args.port} (Ctrl-C to stop)")
    from streamlit.web import cli as streamlit_cli

    try:
        streamlit_cli.main(streamlit_args(args), prog_name="streamlit", standalone_mode=False)
    except SystemExit as exc:
        return int(exc.code or 0)
    return EXIT_OK
