"""Start the Streamlit app as a real server process for browser, benchmark and concurrency tests.

    from tests.e2e.server import serve
    with serve(env={"TARGETS_DB": str(db_path)}) as url:
        ...  # url == "http://127.0.0.1:<port>"

The server runs with cwd = repository root in its own process group, which is always
killed on exit (also when the body raises or the server never became healthy).
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class ServerError(RuntimeError):
    """The server exited or did not become healthy in time."""


_started: list[int] = []


def last_pid() -> int:
    """Process id of the most recently started server (for memory measurements)."""
    return _started[-1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no output captured)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty)"


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.status == 200 and r.read().decode().strip() == "ok"
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _kill_group(proc: subprocess.Popen, grace: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)  # proc.pid is the group id (start_new_session=True)
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def serve(script: str = "app.py", env: Mapping[str, str] | None = None, port: int | None = None,
          timeout: float = 60.0, extra_args: list[str] | tuple[str, ...] = ()) -> Iterator[str]:
    """Run ``streamlit run <script>`` on a free (or the given) port; yield its base URL.

    ``env`` is added to the current environment (pass ``TARGETS_DB`` here). Waits until
    ``/_stcore/health`` answers "ok" (``timeout`` seconds), else raises ServerError with the
    tail of the server's stderr.
    """
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "streamlit", "run", script,
           "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *extra_args]
    full_env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
    with tempfile.TemporaryDirectory(prefix="st-serve-") as tmp:
        out_path, err_path = Path(tmp) / "stdout.log", Path(tmp) / "stderr.log"
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=out, stderr=err,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
            _started.append(proc.pid)
            try:
                deadline = time.monotonic() + timeout
                while not _healthy(url):
                    if proc.poll() is not None:
                        raise ServerError(f"streamlit exited with code {proc.returncode} before becoming healthy:\n"
                                          f"{_tail(err_path)}\n--- stdout ---\n{_tail(out_path, 10)}")
                    if time.monotonic() > deadline:
                        raise ServerError(f"streamlit on {url} not healthy after {timeout:.0f}s; stderr tail:\n"
                                          f"{_tail(err_path)}\n--- stdout ---\n{_tail(out_path, 10)}")
                    time.sleep(0.2)
                yield url
            finally:
                _kill_group(proc)
