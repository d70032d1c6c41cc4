"""Load test of the web app: concurrent sessions on 127.0.0.1, each running a small scenario.

Starts ``asdsim app`` on a free localhost port (its own process group, stopped at the end),
then opens N sessions at once over Streamlit's own WebSocket protocol (what a browser tab
sends: rerun the page with these widget values), each of which picks a shipped scenario,
changes a WTE, sets the replications and a seed, and presses Run. Half the seeds repeat, so
some sessions ask a question another is already answering (joined, or from the cache). Every
wait is bounded; nothing retries forever.

Prints the time of the last session to finish (a figure, not a pass mark) and the peak memory
of the server's process group (server, forkserver and workers: proportional set size, so pages
shared between them count once), and exits 1 if a session failed or memory went over the bound.

    python benchmarks/bench_app.py                     # 10 sessions, minimal, 10 replications
    python benchmarks/bench_app.py --sessions 10 --scenario nice_mdt --replications 2
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.sync.client import ClientConnection, connect

MEMORY_BOUND_MB = 2048
"""Peak memory of the server's process group allowed (MB, proportional set size)."""
HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def start_server(port: int, workers: int = 2, log: Path | None = None,
                 timeout: float = 120.0) -> subprocess.Popen[bytes]:
    """``asdsim app`` on 127.0.0.1:port, in its own process group; returns once it answers.

    Raises
    ------
    RuntimeError
        When it does not answer within ``timeout`` seconds (it is stopped first).
    """
    env = {**os.environ, "ASDSIM_APP_WORKERS": str(workers)}
    out = open(log, "wb") if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from asdsim.cli import main; sys.exit(main())",
         "app", "--host", HOST, "--port", str(port)],
        stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/_stcore/health", timeout=5) as r:
                if r.status == 200:
                    return proc
        except OSError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    stop_server(proc)
    raise RuntimeError(f"asdsim app did not answer on port {port} within {timeout:.0f} s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server's process group: TERM, then KILL if it lingers."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def group_memory_mb(pgid: int) -> float:
    """Memory of every process in a process group, in MB (PSS where the kernel gives it)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            try:
                text = Path(f"/proc/{entry}/smaps_rollup").read_text()
                found = re.search(r"^Pss:\s+(\d+) kB", text, re.M)
            except OSError:
                found = None
            if found is None:
                found = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{entry}/status").read_text(),
                                  re.M)
            total += int(found.group(1)) if found else 0
        except (OSError, ValueError, IndexError):
            continue
    return total / 1024


class MemoryWatch:
    """Samples a process group's memory every half second, in a thread, until stopped."""

    def __init__(self, pgid: int):
        self.pgid = pgid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, group_memory_mb(self.pgid))
            self._stop.wait(0.5)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.peak = max(self.peak, group_memory_mb(self.pgid))


@dataclass
class Page:
    """What one rerun of the page showed: widget ids by key, texts, errors."""

    widgets: dict[str, tuple[str, object]] = field(default_factory=dict)
    markdown: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Session:
    """One browser-like session: a WebSocket speaking Streamlit's protocol."""

    def __init__(self, port: int, timeout: float):
        self.port = port
        self.deadline = time.monotonic() + timeout
        self.ws: ClientConnection | None = None

    def __enter__(self) -> Session:
        self._connection = connect(f"ws://{HOST}:{self.port}/_stcore/stream",
                                   subprotocols=["streamlit"], origin=f"http://{HOST}:{self.port}",
                                   max_size=None, open_timeout=30)
        self.ws = self._connection.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._connection.__exit__(*exc)

    def rerun(self, states: list[WidgetState]) -> Page:
        """Rerun the page with these widget values; read everything until the script ends."""
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_script_hash = ""
        msg.rerun_script.widget_states.widgets.extend(states)
        assert self.ws is not None, "use the session as a context manager"
        self.ws.send(msg.SerializeToString())
        page = Page()
        while True:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the session's time ran out")
            forward = ForwardMsg()
            forward.ParseFromString(self.ws.recv(timeout=left))
            kind = forward.WhichOneof("type")
            if kind == "script_finished":
                return page
            if kind != "delta" or forward.delta.WhichOneof("type") != "new_element":
                continue
            element = forward.delta.new_element
            etype = element.WhichOneof("type")
            sub = getattr(element, etype)
            if etype == "markdown":
                page.markdown.append(sub.body)
            elif etype == "exception":
                page.errors.append(f"{sub.type}: {sub.message}")
            elif etype == "alert" and sub.format == Alert.ERROR:
                page.errors.append(sub.body)
            key_id = getattr(sub, "id", "")
            if key_id.startswith("$$ID-"):
                page.widgets[key_id.split("-", 2)[2]] = (key_id, sub)


def _state(page: Page, key: str, **value: object) -> WidgetState:
    state = WidgetState(id=page.widgets[key][0])
    for name, v in value.items():
        setattr(state, name, v)
    return state


@dataclass
class Outcome:
    """How one session went."""

    index: int
    ok: bool
    seconds: float
    error: str = ""
    answer_seconds: float = 0.0
    """From pressing Run to the answer shown."""


def run_session(port: int, index: int, scenario: str, replications: int, seed: int,
                wte_key: str, wte: float, timeout: float) -> Outcome:
    """Pick ``scenario``, set one WTE, the replications and the seed, press Run, read the
    summary; ok when the edited design's summary is shown and no error."""
    started = time.monotonic()
    try:
        with Session(port, timeout) as session:
            return _ask(session, index, scenario, replications, seed, wte_key, wte, started)
    except Exception as exc:
        return Outcome(index, False, time.monotonic() - started, f"{type(exc).__name__}: {exc}")


def _ask(session: Session, index: int, scenario: str, replications: int, seed: int,
         wte_key: str, wte: float, started: float) -> Outcome:
    page = session.rerun([])
    pick = _state(page, "scenario", string_value=scenario)
    page = session.rerun([pick])
    if wte_key not in page.widgets:
        raise RuntimeError(f"no lever {wte_key!r} on the page")
    states = [pick, _state(page, wte_key, double_value=wte),
              _state(page, "replications", int_value=replications),
              _state(page, "seed", int_value=seed),
              _state(page, "run", trigger_value=True)]
    asked = time.monotonic()
    page = session.rerun(states)
    if page.errors:
        raise RuntimeError("; ".join(page.errors))
    if not any(re.match(r"\*\*.* \(edited\)\*\*: ", re.sub(r"\\(.)", r"\1", m))
               for m in page.markdown):
        raise RuntimeError("no summary of the edited design")
    return Outcome(index, True, time.monotonic() - started, answer_seconds=time.monotonic() - asked)


def load_test(sessions: int = 10, scenario: str = "minimal", replications: int = 10,
              workers: int = 2, wte_key: str = "lever:wte:clinic:psychologist",
              wte: float = 0.6, timeout: float = 600.0, log: Path | None = None) -> dict:
    """Start a server, run ``sessions`` sessions at once, stop the server; the figures.

    Returns
    -------
    dict
        ``outcomes`` (one per session), ``last_finish_seconds``, ``peak_memory_mb``,
        ``server_start_seconds``.
    """
    port = free_port()
    started = time.monotonic()
    proc = start_server(port, workers, log)
    start_seconds = time.monotonic() - started
    try:
        with MemoryWatch(proc.pid) as memory:
            outcomes: list[Outcome | None] = [None] * sessions
            gate = threading.Barrier(sessions)

            def one(i: int) -> None:
                gate.wait(timeout=60)
                outcomes[i] = run_session(port, i, scenario, replications, 1000 + i % 5,
                                          wte_key, wte, timeout)

            threads = [threading.Thread(target=one, args=(i,), daemon=True)
                       for i in range(sessions)]
            t0 = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=timeout + 90)
            last = time.monotonic() - t0
    finally:
        stop_server(proc)
    done = [o if o is not None else Outcome(i, False, last, "did not finish")
            for i, o in enumerate(outcomes)]
    return {"outcomes": done, "last_finish_seconds": max(o.seconds for o in done) if done else 0.0,
            "wall_seconds": last, "peak_memory_mb": memory.peak,
            "server_start_seconds": start_seconds}


def main(argv: list[str] | None = None) -> int:
    """Run the load test and print its figures; exit 1 on a failed session or over memory."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--scenario", default="minimal", help="a shipped scenario's file stem")
    parser.add_argument("--wte-key", default=None,
                        help="the lever to change (default: the scenario's psychologist)")
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per session")
    parser.add_argument("--memory-bound-mb", type=float, default=MEMORY_BOUND_MB)
    args = parser.parse_args(argv)
    key = args.wte_key or ("lever:wte:clinic:psychologist" if args.scenario == "minimal"
                           else "lever:wte:school_age_mdt:psychologist")
    result = load_test(args.sessions, args.scenario, args.replications, args.workers, key,
                       timeout=args.timeout)
    failed = [o for o in result["outcomes"] if not o.ok]
    print(f"{args.sessions} sessions of {args.scenario}, {args.replications} replications each "
          f"(base and edited), {args.workers} workers, on {os.cpu_count()} CPUs")
    print(f"server start: {result['server_start_seconds']:.1f} s")
    for o in result["outcomes"]:
        print(f"  session {o.index}: {'ok' if o.ok else 'FAILED'} in {o.seconds:.1f} s "
              f"(answer {o.answer_seconds:.1f} s after Run)"
              + (f" ({o.error})" if o.error else ""))
    print(f"last session finished after {result['last_finish_seconds']:.1f} s")
    print(f"peak memory of the server's processes: {result['peak_memory_mb']:.0f} MB "
          f"(bound {args.memory_bound_mb:.0f} MB)")
    return 1 if failed or result["peak_memory_mb"] > args.memory_bound_mb else 0


if __name__ == "__main__":
    sys.exit(main())
