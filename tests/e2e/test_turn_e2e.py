"""TURN with time-limited credentials through a real coturn (Debian's, started here with the repository's
deploy/turnserver.conf plus a test secret, in a temporary directory).

* coturn itself: a credential minted by ``awsome_core.turn`` allocates a relay; the same user's credential
  once expired, and one signed with another secret, are refused (401) -- aioice's TURN client speaks to it.
* The Live page in Chromium, its connection forced through the relay on both sides: the page's WebRTC peer
  connection is created with ``iceTransportPolicy: "relay"`` (an init script wraps ``RTCPeerConnection`` in
  every frame) and the app server's aioice gathers relay candidates only (a launcher wrapper), so the media
  can only go through coturn; the app hands the
  session a credential of its own (``<expiry>:u<id>``, never the secret), coturn logs the allocation for that
  username, the selected candidate pair's local candidate is a relay one, and the video comes back with
  happy boxes. Runs in the WebRTC tests' network namespace (tests/e2e/webrtc.py), coturn inside it too.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from awsome_core.turn import mint_credential, sign_username
from tests.conftest import PROJECT_ROOT, skip_or_fail
from tests.e2e import webrtc
from tests.e2e.conftest import free_port, start_app
from tests.e2e.test_live_e2e import FIRST_BOX_WITHIN_S, LiveRun, open_live_page, press_start, wait_for_happy_box

pytestmark = pytest.mark.slow

TURNSERVER = shutil.which("turnserver") or "/usr/sbin/turnserver"
NETNS_IP = "198.18.0.1"  # the veth address of the WebRTC tests' namespace (tests/e2e/webrtc.py)
REALM = "awsome.test"
# Every RTCPeerConnection the page creates (in any frame) is relay-only; remember them and their ICE servers.
FORCE_RELAY_JS = """(() => {
  const Native = window.RTCPeerConnection;
  if (!Native) return;
  window.__awsomeIce = []; window.__awsomePcs = [];
  function Relayed(config, ...rest) {
    const relayed = Object.assign({}, config || {}, {iceTransportPolicy: 'relay'});
    window.__awsomeIce.push(JSON.parse(JSON.stringify(relayed.iceServers || [])));
    const pc = new Native(relayed, ...rest);
    window.__awsomePcs.push(pc);
    return pc;
  }
  Relayed.prototype = Native.prototype;
  Object.setPrototypeOf(Relayed, Native);
  window.RTCPeerConnection = Relayed;
})();"""
# The app server's side relay-only too: aioice (under aiortc) gathers relay candidates only. Written next to
# the test as a wrapper around tests/e2e/run_streamlit.py, so nothing in the app knows about it.
RELAY_LAUNCHER = """import runpy, sys
import aioice.ice

_init = aioice.ice.Connection.__init__


def _relay_only(self, *args, **kwargs):
    kwargs["transport_policy"] = aioice.ice.TransportPolicy.RELAY
    _init(self, *args, **kwargs)


aioice.ice.Connection.__init__ = _relay_only
sys.argv[0] = {launcher!r}
runpy.run_path({launcher!r}, run_name="__main__")
"""
# The local candidate of the pair the last peer connection selected.
SELECTED_LOCAL_JS = """async () => {
  const pc = window.__awsomePcs[window.__awsomePcs.length - 1];
  const stats = await pc.getStats();
  let pair = null;
  stats.forEach(s => {
    if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
  });
  if (!pair) stats.forEach(s => {
    if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s;
  });
  if (!pair) return null;
  const local = stats.get(pair.localCandidateId), remote = stats.get(pair.remoteCandidateId);
  return {local: local.candidateType, localAddress: local.address, relayProtocol: local.relayProtocol || null,
          remote: remote.candidateType, bytesSent: pair.bytesSent, bytesReceived: pair.bytesReceived};
}"""


def _coturn_conf(folder: Path, *, ip: str, port: int, secret: str) -> Path:
    """The repository's turnserver.conf plus what compose/AWS pass on the command line, for *ip*:*port*."""
    base = (PROJECT_ROOT / "deploy" / "turnserver.conf").read_text()
    assert "use-auth-secret" in base
    extra = [
        f"listening-ip={ip}",
        f"relay-ip={ip}",
        f"listening-port={port}",
        f"realm={REALM}",
        f"static-auth-secret={secret}",
        f"pidfile={folder / 'turnserver.pid'}",
        f"userdb={folder / 'turndb'}",
        "verbose",
    ]
    path = folder / "turnserver.conf"
    path.write_text(base + "\n" + "\n".join(extra) + "\n")
    return path


class Coturn:
    def __init__(self, folder: Path, *, ip: str, port: int, secret: str, prefix: list[str] | None = None) -> None:
        if not Path(TURNSERVER).exists():
            skip_or_fail("turnserver not found: apt-get install coturn (.ci/run installs it)")
        folder.mkdir(parents=True, exist_ok=True)
        self.ip, self.port, self.secret = ip, port, secret
        self.log_path = folder / "turnserver.log"
        conf = _coturn_conf(folder, ip=ip, port=port, secret=secret)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [*(prefix or []), TURNSERVER, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 20
        while "Total General servers" not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"coturn did not start:\n{self.log()[-3000:]}")
            time.sleep(0.2)
        time.sleep(0.5)  # its listeners open right after the relay servers

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _allocate(server: tuple[str, int], username: str, password: str) -> tuple[str, int]:
    """A TURN allocation with aioice's client: the relayed address, or the TransactionFailed of a refusal."""
    import aioice.turn

    async def run() -> tuple[str, int]:
        transport, _ = await asyncio.wait_for(
            aioice.turn.create_turn_endpoint(asyncio.DatagramProtocol, server, username, password, lifetime=60),
            timeout=10,
        )
        try:
            relayed: tuple[str, int] = transport.get_extra_info("sockname")
            return relayed
        finally:
            transport.close()

    # NOTE: in its own thread: Playwright's sync API (started by earlier e2e tests in this session) keeps an
    # event loop running in the main thread, where asyncio.run() refuses to start another.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result()


@pytest.fixture
def coturn_local(tmp_path: Path) -> Iterator[Coturn]:
    server = Coturn(tmp_path / "coturn", ip="127.0.0.1", port=free_port(), secret=secrets.token_urlsafe(24))
    yield server
    server.stop()


def test_coturn_accepts_a_fresh_credential_and_refuses_an_expired_or_forged_one(coturn_local: Coturn) -> None:
    from aioice.stun import TransactionFailed

    address = (coturn_local.ip, coturn_local.port)
    fresh = mint_credential(coturn_local.secret, "u1", ttl_seconds=600)
    relayed = _allocate(address, fresh.username, fresh.password)
    assert relayed[0] == "127.0.0.1" and relayed[1] > 0

    expired = mint_credential(coturn_local.secret, "u1", ttl_seconds=600, now=time.time() - 660)  # ended 60 s ago
    with pytest.raises(TransactionFailed, match="401"):
        _allocate(address, expired.username, expired.password)
    forged = mint_credential("not-the-secret-" + "x" * 16, "u1", ttl_seconds=600)
    with pytest.raises(TransactionFailed, match="401"):
        _allocate(address, forged.username, forged.password)
    with pytest.raises(TransactionFailed, match="401"):  # a later expiry with the old signature
        _allocate(address, f"{fresh.expires_at + 3600}:u1", fresh.password)
    assert sign_username(coturn_local.secret, fresh.username) == fresh.password


@pytest.fixture
def relayed_live(tmp_path: Path, playwright_sync: Any, request: pytest.FixtureRequest) -> Iterator[Callable[[], Any]]:
    started: list[Any] = []

    def factory() -> tuple[LiveRun, Coturn]:
        mode = webrtc.network_mode()
        if mode != "netns":
            skip_or_fail("the relayed Live test needs the network namespace mode (root, unshare, nsenter, ip)")
        secret, port = secrets.token_urlsafe(24), 3478
        wrapper = tmp_path / "run_streamlit_relay_only.py"
        wrapper.write_text(RELAY_LAUNCHER.format(launcher=str(webrtc.LAUNCHER)))
        launcher = [str(wrapper) if part == str(webrtc.LAUNCHER) else part for part in webrtc.server_launcher(mode)]
        server = start_app(
            tmp_path,
            database_url=f"sqlite:///{tmp_path / 'live.db'}",
            extra_env={
                **webrtc.server_env(mode),
                "AWSOME_TURN_URLS": f"turn:{NETNS_IP}:{port}?transport=udp",
                "AWSOME_TURN_SECRET": secret,
                "AWSOME_TURN_TTL_SECONDS": "600",
            },
            launcher=launcher,
            health_check=webrtc.health_check(mode),
        )
        started.append(server)
        net = ["nsenter", f"--net=/proc/{server.process.pid}/ns/net"]
        coturn = Coturn(tmp_path / "coturn", ip=NETNS_IP, port=port, secret=secret, prefix=net)
        started.append(coturn)
        clip = webrtc.make_clip(tmp_path / "astronaut.y4m")
        browser = webrtc.launch_browser(playwright_sync, clip=clip, mode=mode, server=server, tmp=tmp_path)
        started.append(browser)
        return LiveRun(server, browser, tmp_path / "live.db", mode), coturn

    yield factory
    rep = getattr(request.node, "rep_call", None)
    for thing in reversed(started):
        if rep is not None and rep.failed and hasattr(thing, "log"):
            print(f"----- {type(thing).__name__} log -----\n{thing.log()[-5000:]}")
        (thing.close if hasattr(thing, "close") else thing.stop)()


def test_live_page_streams_through_the_turn_relay_with_a_session_credential(relayed_live: Callable[[], Any]) -> None:
    run, coturn = relayed_live()
    original_new_context = run.browser.new_context

    def new_context(**kwargs: Any) -> Any:
        context = original_new_context(**kwargs)
        context.add_init_script(FORCE_RELAY_JS)
        return context

    run.browser.new_context = new_context
    page = open_live_page(run, "relayuser")
    clicks, t_click = press_start(page)
    sys.stderr.write(f"\n[turn] START clicks: {clicks}\n")
    wait_for_happy_box(page, t_click, FIRST_BOX_WITHIN_S * 2)

    frame = page.frame(url=re.compile(webrtc.COMPONENT_URL))
    ice = frame.evaluate("() => window.__awsomeIce")
    turn = [s for servers in ice for s in servers if any(str(u).startswith("turn:") for u in s.get("urls", []))]
    assert turn, f"the page got no TURN server: {ice}"
    username, credential = turn[-1]["username"], turn[-1]["credential"]
    expiry, _, label = username.partition(":")
    assert re.fullmatch(r"u\d+", label), username
    assert time.time() + 500 < int(expiry) <= time.time() + 600, "expires after the configured TTL"
    assert credential == sign_username(coturn.secret, username)
    assert coturn.secret not in page.content() and coturn.secret not in frame.content()
    assert coturn.secret not in str(ice)

    selected = frame.evaluate(SELECTED_LOCAL_JS)
    assert selected is not None and selected["local"] == "relay", selected
    assert selected["localAddress"] == NETNS_IP and selected["bytesReceived"] > 0, selected
    assert selected["remote"] == "relay", "the app's side offered relay candidates only as well"
    allocated = rf"user <{re.escape(username)}>: incoming packet ALLOCATE processed, success"
    assert re.search(allocated, coturn.log()), "coturn allocated a relay for the session's credential"
    page.screenshot(path=str(run.server.log_path.with_name("live-relayed.png")))
