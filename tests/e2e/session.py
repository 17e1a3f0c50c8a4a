"""A Streamlit session without a browser: speaks the app's websocket protocol, as the
frontend does, so that many sessions cost the client almost nothing (load tests and the
memory benchmark on a 2-core machine; a Chromium tab per session would starve the server).

    async with AppSession(url, cookies={"mubiao_auth": token}) as s:
        run = await s.run()                    # the default page (总览)
        run = await s.run(s.page("进度差距"))   # a sidebar click: rerun on that page
        run.exceptions, run.alerts("error"), run.html()

The server runs the script exactly as for a browser: the same session object, session state,
caches and login cookie (read from the websocket handshake by ``st.context.cookies``). What
is not done: drawing, component iframes, widget interaction beyond page switches.
"""
from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass, field

from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

READ_TIMEOUT = 60.0
FINISHED = ForwardMsg.FINISHED_SUCCESSFULLY
EARLY = ForwardMsg.FINISHED_EARLY_FOR_RERUN


class SessionError(RuntimeError):
    """The server closed the session, or a run did not finish in time."""


@dataclass
class Run:
    """What one script run sent: its elements in order (type name, proto) and the pages."""

    elements: list[tuple[str, object]] = field(default_factory=list)
    pages: dict[str, str] = field(default_factory=dict)   # page title → page_script_hash
    page_hash: str = ""

    def of(self, kind: str) -> list:
        return [e for k, e in self.elements if k == kind]

    def first(self, kind: str):
        found = self.of(kind)
        return found[0] if found else None

    @property
    def exceptions(self) -> list[str]:
        return [f"{e.type}: {e.message}" for e in self.of("exception")]

    def alerts(self, level: str) -> list[str]:
        fmt = {"error": Alert.ERROR, "warning": Alert.WARNING, "info": Alert.INFO, "success": Alert.SUCCESS}[level]
        return [a.body for a in self.of("alert") if a.format == fmt]

    @property
    def title(self) -> str:
        heading = self.first("heading")
        return heading.body if heading is not None else ""

    def markdown(self) -> list[str]:
        return [m.body for m in self.of("markdown")]

    def plotly(self) -> list[dict]:
        """Each plotly chart's figure (data arrays decoded from plotly's base64 typed arrays)."""
        return [_decode(json.loads(p.spec)) for p in self.of("plotly_chart")]

    def html(self) -> list[str]:
        """The bodies of the st.html elements (short tables, the gap chart: tests/htmlparts reads them)."""
        return [h.body for h in self.of("html")]


def _decode(obj):
    """Plotly ≥ 6 sends numpy arrays as {"dtype", "bdata"}: back to lists of numbers."""
    if isinstance(obj, dict):
        if set(obj) >= {"dtype", "bdata"}:
            import numpy as np
            arr = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=obj["dtype"])
            shape = obj.get("shape")
            if isinstance(shape, str):
                shape = [int(n) for n in shape.split(",")]
            return (arr.reshape(shape) if shape else arr).tolist()
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    return obj


class AppSession:
    """One websocket session on a running Streamlit server."""

    def __init__(self, url: str, cookies: dict[str, str] | None = None, timeout: float = READ_TIMEOUT):
        self.ws_url = url.replace("http", "ws", 1).rstrip("/") + "/_stcore/stream"
        self.cookies, self.timeout = cookies or {}, timeout
        self.pages: dict[str, str] = {}
        self._ws = None

    async def __aenter__(self) -> "AppSession":
        import websockets
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else None
        self._ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"], additional_headers=headers,
                                            max_size=2 ** 28, open_timeout=self.timeout, ping_interval=None)
        return self

    async def __aexit__(self, *exc) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    @property
    def connected(self) -> bool:
        return self._ws is not None

    def page(self, title: str) -> str:
        """The page_script_hash of a page in the app's navigation (known after the first run)."""
        try:
            return self.pages[title]
        except KeyError:
            raise SessionError(f"no page {title!r} in the navigation: {sorted(self.pages)}") from None

    async def run(self, page_hash: str = "") -> Run:
        """Rerun the script (on ``page_hash``, else the current/default page) and collect what
        it sends until it finishes. A run cut short by st.rerun is followed to its successor."""
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_script_hash = page_hash
        await self._ws.send(msg.SerializeToString())
        run, started = Run(), False
        while True:
            try:
                raw = await asyncio.wait_for(self._ws.recv(), self.timeout)
            except asyncio.TimeoutError:
                raise SessionError(f"no message for {self.timeout:.0f}s (run started: {started})") from None
            except Exception as e:  # websockets.ConnectionClosed and friends
                raise SessionError(f"the server closed the session: {e!r}") from None
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            kind = fwd.WhichOneof("type")
            if kind == "new_session":        # sent at the start of every script run
                run, started = Run(pages=run.pages), True
                run.page_hash = fwd.new_session.page_script_hash
            elif kind == "navigation":
                run.pages = {p.page_name: p.page_script_hash for p in fwd.navigation.app_pages}
                self.pages = dict(run.pages)
                run.page_hash = fwd.navigation.page_script_hash or run.page_hash
            elif kind == "delta" and started and fwd.delta.WhichOneof("type") == "new_element":
                element = fwd.delta.new_element
                name = element.WhichOneof("type")
                run.elements.append((name, getattr(element, name)))
            elif kind == "ref_hash":
                raise SessionError("the server sent a cached-message reference (not requested)")
            elif kind == "script_finished" and started:
                status = fwd.script_finished
                if status == FINISHED:
                    return run
                if status != EARLY:
                    raise SessionError(f"the script run ended with status {status}")
                started = False              # st.rerun: the next run follows


__all__ = ["AppSession", "Run", "SessionError"]
