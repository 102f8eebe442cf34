"""Helpers for WebRTC browser tests: a fake-webcam clip, Chromium with a fake camera, networking, pixel reads.

WebRTC between Chromium and aiortc on one machine needs one of two set-ups (AWSOME_E2E_WEBRTC_NET):

* ``netns`` (default as root): the app server runs in a private network namespace made by ``unshare -n``
  with ``lo`` and a veth pair at 198.18.0.1, and Chromium joins that namespace through ``nsenter``.
  App, aiortc and Chromium run unpatched; ICE pairs 198.18.0.1 with itself; nothing leaves the namespace.
  Playwright talks to Chromium over a pipe, so the test process itself stays outside.
* ``loopback`` (without root): ``tests/e2e/run_streamlit.py`` restricts aioice to 127.0.0.1
  (``AWSOME_E2E_ICE_LOOPBACK=1``) and Chromium gets ``--allow-loopback-in-peer-connection``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from tests.conftest import PROJECT_ROOT
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, AppServer

IFRAME = 'iframe[title="streamlit_webrtc.component.webrtc_streamer"]'
COMPONENT_URL = r"/component/streamlit_webrtc\."
LAUNCHER = PROJECT_ROOT / "tests" / "e2e" / "run_streamlit.py"
# IPv6 off in the namespace: otherwise the veth gets its link-local address a second or two after it comes
# up, Chromium (started just then) sees the network change and aborts the page load (ERR_NETWORK_CHANGED).
NETNS_SETUP = """
echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6 && echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 || exit 1
ip link set lo up || exit 1
ip link add v0 type veth peer name v1 && ip addr add 198.18.0.1/24 dev v0 \
  && ip link set v0 up && ip link set v1 up || exit 1
exec "$@"
"""


def make_clip(path: Path, *, fps: int = 15, seconds: float = 4.0, size: tuple[int, int] = (640, 480)) -> Path:
    """Write a Y4M (I420) clip for ``--use-file-for-fake-video-capture``: ``skimage.data.astronaut()`` as
    tall as the frame, panning slowly (her face stays right of the bars panel the app draws top-left),
    with a frame counter. Chromium loops it."""
    from skimage import data

    w, h = size
    face = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (h, h))
    n = int(fps * seconds)
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for i in range(n):
            frame = np.full((h, w, 3), 40, np.uint8)
            x = int(120 + 40 * (0.5 + 0.5 * np.sin(2 * np.pi * i / n)))
            frame[:, x : x + h] = face
            cv2.putText(frame, f"src {i:03d}", (10, h - 15), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
            f.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path


def network_mode() -> str:
    """``netns`` or ``loopback`` (see the module docstring); AWSOME_E2E_WEBRTC_NET overrides the choice."""
    mode = os.environ.get("AWSOME_E2E_WEBRTC_NET", "")
    if mode in ("netns", "loopback"):
        return mode
    if mode:
        raise ValueError(f"AWSOME_E2E_WEBRTC_NET must be netns or loopback, not {mode!r}")
    if os.geteuid() == 0 and shutil.which("unshare") and shutil.which("nsenter") and shutil.which("ip"):
        probe = subprocess.run(["unshare", "-n", "ip", "link", "set", "lo", "up"], capture_output=True, timeout=10)
        if probe.returncode == 0:
            return "netns"
    return "loopback"


def server_launcher(mode: str) -> list[str]:
    """What replaces the ``streamlit`` executable in the app server's command line."""
    python = [sys.executable, str(LAUNCHER)]
    return ["unshare", "-n", "sh", "-c", NETNS_SETUP, "sh", *python] if mode == "netns" else python


def server_env(mode: str) -> dict[str, str]:
    env = {"AWSOME_E2E_WEBRTC_DEBUG": "1"}  # streamlit-webrtc's context resets show in the server log
    if mode == "loopback":
        env["AWSOME_E2E_ICE_LOOPBACK"] = "1"
    return env


def _in_netns(server: AppServer, argv: list[str]) -> list[str]:
    return ["nsenter", f"--net=/proc/{server.process.pid}/ns/net", *argv]


def health_check(mode: str) -> Callable[[AppServer], bool] | None:
    """In netns mode the server is only reachable from inside its namespace: probe from there."""
    if mode != "netns":
        return None
    code = "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2).read()"

    def check(server: AppServer) -> bool:
        argv = _in_netns(server, [sys.executable, "-c", code, server.url + "/_stcore/health"])
        return subprocess.run(argv, capture_output=True, timeout=15).returncode == 0

    return check


def chromium_args(clip: Path, mode: str) -> list[str]:
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-ui-for-media-stream",  # grant the camera without a prompt
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={clip}",
        "--autoplay-policy=no-user-gesture-required",
    ]
    if mode == "loopback":
        args.append("--allow-loopback-in-peer-connection")  # Chromium skips loopback in ICE unless told
    return args


def launch_browser(playwright: Any, *, clip: Path, mode: str, server: AppServer, tmp: Path) -> Any:
    """A separate headless Chromium with the fake camera; in netns mode it runs in the server's namespace."""
    executable = CHROMIUM
    if mode == "netns":
        wrapper = tmp / "chromium-in-netns.sh"
        wrapper.write_text(f'#!/bin/sh\nexec {" ".join(_in_netns(server, [CHROMIUM]))} "$@"\n')
        wrapper.chmod(0o755)
        executable = str(wrapper)
    return playwright.chromium.launch(executable_path=executable, headless=True, args=chromium_args(clip, mode))


# Draw the current <video> frame into a canvas and count, right of x0, the pixels near each colour;
# also the bounding box of the pixels near the first one. Remote WebRTC video is not cross-origin.
SAMPLE_JS = """([colours, x0, tol]) => {
  const v = document.querySelector('video');
  if (!v || !v.videoWidth) return null;
  const c = document.createElement('canvas');
  c.width = v.videoWidth; c.height = v.videoHeight;
  const g = c.getContext('2d');
  g.drawImage(v, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  const counts = colours.map(() => 0);
  let box = null;
  for (let y = 0; y < c.height; y++) for (let x = x0; x < c.width; x++) {
    const i = 4 * (y * c.width + x);
    colours.forEach((rgb, k) => {
      if (Math.abs(d[i] - rgb[0]) <= tol && Math.abs(d[i + 1] - rgb[1]) <= tol && Math.abs(d[i + 2] - rgb[2]) <= tol) {
        counts[k]++;
        if (k === 0) box = box ? [Math.min(box[0], x), Math.min(box[1], y), Math.max(box[2], x), Math.max(box[3], y)]
                               : [x, y, x, y];
      }
    });
  }
  const q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : null;
  return {w: c.width, h: c.height, t: v.currentTime, counts, box,
          frames: q ? q.totalVideoFrames : null};
}"""


def sample_video(frame: Any, colours: list[tuple[int, int, int]], *, x0: int, tol: int = 40) -> dict[str, Any] | None:
    """Counts of pixels near each RGB colour in the component's <video>, right of *x0* (None before video)."""
    return frame.evaluate(SAMPLE_JS, [list(map(list, colours)), x0, tol])
