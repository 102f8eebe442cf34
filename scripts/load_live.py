"""Live capacity: N synthetic WebRTC clients on the real Live page; analysed fps per stream and server CPU.

Run commands::

    .venv/bin/python scripts/load_live.py --streams 2 --duration 30           # AWSOME_TEST_MYSQL_URL
    .venv/bin/python scripts/load_live.py --streams 1 2 4 --duration 30 --json live.json

Each client is what a browser is to the server: it signs in over Streamlit's websocket protocol (the
protocol client of ``scripts/load_test.py``), opens the Live camera page, and does streamlit-webrtc's own
signalling through the page's component: its value ``{"playing", "sdpOffer", "iceCandidates"}`` goes up as
the component's widget state, the server's answer comes back in the component's ``sdp_answer_json``
argument, then ``playing`` is set. The media is aiortc's (installed with streamlit-webrtc): a VP8 video
track of the e2e tests' astronaut clip (``tests/e2e/webrtc.py``: the photo as tall as the frame, panning),
640×480 at 15 fps; the server's annotated video comes back and is counted. The analysed rate of each stream
is read from the page's details line ("Analysing N frames per second", refreshed twice a second by the script).

It prints, per run of N streams: the median over streams of their median analysed fps, the slowest
stream's, the server's CPU (user + system, ``/proc/PID/stat``) in cores, and ``streams_per_core``: N over
the cores used, when every stream kept ≥ 10 analysed fps (else the run does not count). The clients run on
the same machine: their VP8 encoding and decoding compete with the server for the cores, so on a 2-core
machine the fps figures drop sooner than the server's own cost would make them; the CPU-based
``server_cpu_per_stream`` is the figure to size with.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fractions
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402, TID251
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402, TID251

from awsome_core.storage.db import temporary_mysql_database, upgrade_database  # noqa: E402
from scripts.load_test import StreamlitClient, _sign_in, app_server, cpu_seconds, create_users  # noqa: E402

logger = logging.getLogger("awsome.load_live")
FPS, SIZE = 15, (640, 480)
MIN_FPS = 10.0
_RATE = re.compile(r"Analysing ([\d.]+) frames per second")  # ui.live_mood.details_text


def make_frames(seconds: float = 4.0) -> list[np.ndarray]:
    """The e2e tests' clip (tests/e2e/webrtc.py ``make_clip``) as BGR frames: the astronaut, panning."""
    from skimage import data

    w, h = SIZE
    face = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (h, h))
    n = int(FPS * seconds)
    frames = []
    for i in range(n):
        frame = np.full((h, w, 3), 40, np.uint8)
        x = int(120 + 40 * (0.5 + 0.5 * np.sin(2 * np.pi * i / n)))
        frame[:, x : x + h] = face
        frames.append(frame)
    return frames


def clip_track(frames: list[np.ndarray]) -> Any:
    """An aiortc video track that plays *frames* in a loop at 15 fps, as a webcam would."""
    from aiortc import MediaStreamTrack

    class ClipTrack(MediaStreamTrack):
        kind = "video"

        def __init__(self) -> None:
            super().__init__()
            self._i, self._start = 0, 0.0

        async def recv(self) -> av.VideoFrame:
            if self._i == 0:
                self._start = time.monotonic()
            due = self._start + self._i / FPS
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            frame = av.VideoFrame.from_ndarray(frames[self._i % len(frames)], format="bgr24")
            frame.pts, frame.time_base = self._i * 90000 // FPS, fractions.Fraction(1, 90000)
            self._i += 1
            return frame

    return ClipTrack()


@dataclass
class StreamResult:
    username: str
    rates: list[float] = field(default_factory=list)  # the details line's analysed fps, as shown
    frames_back: int = 0
    connected_s: float | None = None
    errors: list[str] = field(default_factory=list)

    def median_fps(self) -> float:
        return float(np.median(self.rates)) if self.rates else 0.0


async def _send(client: StreamlitClient, page_hash: str, widgets: list[WidgetState]) -> None:
    """A rerun request without waiting for the run to finish (the Live page's run lasts while it streams)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: TID251
    from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo  # noqa: TID251
    from streamlit.proto.WidgetStates_pb2 import WidgetStates  # noqa: TID251

    state = ClientState(
        widget_states=WidgetStates(widgets=widgets),
        page_script_hash=page_hash,
        context_info=ContextInfo(timezone="UTC", timezone_offset=0, locale="en-US", url=client.base_url + "/"),
    )
    await client._ws.send(BackMsg(rerun_script=state).SerializeToString())


async def live_stream(base_url: str, result: StreamResult, frames: list[np.ndarray], duration_s: float) -> None:
    """Sign in, open the Live page, stream the clip for *duration_s* once connected; never raises."""
    from aiortc import RTCPeerConnection, RTCSessionDescription

    username = result.username
    client = StreamlitClient(base_url)
    pc = RTCPeerConnection()
    try:
        page = await client.connect()
        await _sign_in(client, page, username)
        live_hash = client.pages["Live camera"]
        page = await client.rerun(live_hash, [])
        component = next(
            (p for k, p in page.elements if k == "component_instance" and "webrtc" in p.component_name), None
        )
        if component is None:
            raise RuntimeError("no webrtc component on the Live page")
        pc.addTrack(clip_track(frames))

        @pc.on("track")
        def on_track(track: Any) -> None:
            async def drain() -> None:
                with contextlib.suppress(Exception):
                    while True:
                        await track.recv()
                        result.frames_back += 1

            asyncio.ensure_future(drain())

        await pc.setLocalDescription(await pc.createOffer())  # aiortc gathers its candidates here
        offer = {"sdp": pc.localDescription.sdp, "type": pc.localDescription.type}
        value = {"playing": False, "sdpOffer": offer, "iceCandidates": {}}
        start = time.monotonic()
        await _send(client, live_hash, [WidgetState(id=component.id, json_value=json.dumps(value))])
        answer = await asyncio.wait_for(_read_answer(client, component.id), 60)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["type"]))
        value = {"playing": True, "sdpOffer": "", "iceCandidates": {}}
        await _send(client, live_hash, [WidgetState(id=component.id, json_value=json.dumps(value))])
        result.connected_s = time.monotonic() - start
        await _read_rates(client, result, time.monotonic() + duration_s)
    except Exception as e:  # counted, never raised
        result.errors.append(f"{type(e).__name__}: {e}")
    finally:
        with contextlib.suppress(Exception):
            await pc.close()
        with contextlib.suppress(Exception):
            await client.close()


async def _read_answer(client: StreamlitClient, component_id: str) -> dict[str, str]:
    while True:
        msg = ForwardMsg()
        msg.ParseFromString(await client._ws.recv())
        if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
            continue
        element = msg.delta.new_element
        if element.WhichOneof("type") == "component_instance" and element.component_instance.id == component_id:
            answer = json.loads(element.component_instance.json_args or "{}").get("sdp_answer_json")
            if answer:
                return dict(json.loads(answer))


async def _read_rates(client: StreamlitClient, result: StreamResult, deadline: float) -> None:
    """Collect the details line's analysed fps until *deadline* (the first 3 s of a stream left out)."""
    settle = time.monotonic() + 3.0
    while (remaining := deadline - time.monotonic()) > 0:
        msg = ForwardMsg()
        try:
            msg.ParseFromString(await asyncio.wait_for(client._ws.recv(), remaining))
        except TimeoutError:
            return
        if msg.WhichOneof("type") == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            if element.WhichOneof("type") == "markdown" and (m := _RATE.search(element.markdown.body)):
                if time.monotonic() >= settle:
                    result.rates.append(float(m.group(1)))


@dataclass
class LiveRun:
    streams: int
    duration_s: float
    per_stream_fps: list[float]
    slowest_fps: float
    median_fps: float
    server_cores: float
    server_cpu_per_stream: float
    streams_per_core: float | None
    frames_back_per_s: float
    errors: list[str]
    thread_ms_per_s: dict[str, float] = field(default_factory=dict)  # the server's threads by name

    def line(self) -> str:
        capacity = f"{self.streams_per_core:.1f}" if self.streams_per_core is not None else "n/a (a stream < 10 fps)"
        return (
            f"live: streams {self.streams} median_fps {self.median_fps:.1f} slowest_fps {self.slowest_fps:.1f} "
            f"server_cores {self.server_cores:.2f} cpu_per_stream {self.server_cpu_per_stream:.2f} "
            f"streams_per_core {capacity} frames_back/s {self.frames_back_per_s:.1f} errors {len(self.errors)}"
        )


def thread_names(pid: int) -> dict[int, str]:
    """The server's threads by OS thread id → Python thread name (digits dropped, so a pool counts as one),
    from ``py-spy dump``; empty without py-spy (Python does not give its threads OS names on Linux)."""
    py_spy = Path(sys.executable).parent / "py-spy"
    try:
        dump = subprocess.run([str(py_spy), "dump", "--pid", str(pid)], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    return {
        int(m.group(1)): re.sub(r"[\d_-]+$", "", m.group(2)) or "?"
        for m in re.finditer(r'^Thread (?:0x[0-9A-Fa-f]+ )?\(?(\d+)\)? ?(?:\([^)]*\))?: "([^"]*)"', dump.stdout, re.M)
    }


def thread_cpu(pid: int, names: dict[int, str]) -> dict[str, float]:
    """CPU seconds so far of the process's threads, summed by *names* (a thread not in it: "other")."""
    out: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            name = names.get(int(task.name), "other")
            out[name] = out.get(name, 0.0) + cpu_seconds(pid, int(task.name))
    return out


async def _run_streams(
    url: str, usernames: list[str], frames: list[np.ndarray], duration_s: float, pid: int
) -> tuple[list[StreamResult], float, float, dict[str, float]]:
    """Run the streams; return them with the server's CPU seconds, the wall seconds measured from 3 s after
    the last one connected until 1 s before the first one stops (all streaming, none signalling), and the
    CPU seconds of each kind of server thread in that time."""
    results = [StreamResult(name) for name in usernames]
    tasks = [asyncio.ensure_future(live_stream(url, r, frames, duration_s)) for r in results]
    give_up = time.monotonic() + 60
    while any(r.connected_s is None and not r.errors for r in results) and time.monotonic() < give_up:
        await asyncio.sleep(0.2)
    await asyncio.sleep(3.0)
    names = thread_names(pid)
    cpu0, threads0, t0 = cpu_seconds(pid), thread_cpu(pid, names), time.monotonic()
    await asyncio.sleep(max(1.0, duration_s - 5.0))
    cpu, wall, threads = cpu_seconds(pid) - cpu0, time.monotonic() - t0, thread_cpu(pid, names)
    await asyncio.gather(*tasks)
    per_thread = {name: seconds - threads0.get(name, 0.0) for name, seconds in threads.items()}
    return results, cpu, wall, per_thread


def run_live(mysql_server: str, counts: list[int], duration_s: float, work_dir: Path) -> list[LiveRun]:
    """One server; for each N in *counts*, N streams at once for *duration_s* seconds."""
    frames = make_frames()
    runs = []
    with temporary_mysql_database(mysql_server, prefix="awsome_live") as database_url:
        upgrade_database(database_url)
        users = create_users(database_url, max(counts))
        with app_server(database_url, work_dir / "data", work_dir / "streamlit.log") as (url, process):
            asyncio.run(_run_streams(url, users[:1], frames, 8.0, process.pid))  # warm-up: imports, models
            for n in counts:
                results, cpu, elapsed, threads = asyncio.run(
                    _run_streams(url, users[:n], frames, duration_s, process.pid)
                )
                fps = [r.median_fps() for r in results]
                cores = cpu / max(elapsed, 1e-9)
                ok = all(f >= MIN_FPS for f in fps) and not any(r.errors for r in results)
                runs.append(
                    LiveRun(
                        streams=n,
                        duration_s=round(elapsed, 1),
                        per_stream_fps=[round(f, 1) for f in fps],
                        slowest_fps=min(fps),
                        median_fps=float(np.median(fps)),
                        server_cores=round(cores, 3),
                        server_cpu_per_stream=round(cores / n, 3),
                        streams_per_core=round(n / cores, 2) if ok and cores > 0 else None,
                        frames_back_per_s=round(sum(r.frames_back for r in results) / duration_s / n, 1),
                        errors=[f"{r.username}: {e}" for r in results for e in r.errors],
                        thread_ms_per_s={
                            name: round(1000 * t / max(elapsed, 1e-9), 1)
                            for name, t in sorted(threads.items(), key=lambda kv: -kv[1])
                            if t > 0
                        },
                    )
                )
                print(runs[-1].line(), flush=True)
                print("  server threads, CPU ms per s:", runs[-1].thread_ms_per_s, flush=True)
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, nargs="+", default=[1, 2, 4], help="concurrent streams per run")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of streaming per run")
    parser.add_argument("--mysql", default=os.environ.get("AWSOME_TEST_MYSQL_URL", ""), help="MySQL server URL")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.mysql:
        parser.error("--mysql or AWSOME_TEST_MYSQL_URL is required (e.g. mysql+pymysql://root@127.0.0.1:3306/)")
    with tempfile.TemporaryDirectory(prefix="awsome-live-") as tmp:
        runs = run_live(args.mysql, args.streams, args.duration, Path(tmp))
    for run in runs:
        for error in run.errors[:5]:
            print(f"  error: {error}")
    capacity = [r.streams_per_core for r in runs if r.streams_per_core is not None]
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in runs], indent=2))
    best = f"{max(capacity):.1f}" if capacity else "n/a"
    print(f"live capacity: {best} streams per core at >= {MIN_FPS:.0f} analysed fps each")
    return 0 if capacity and not any(r.errors for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
