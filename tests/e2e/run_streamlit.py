"""`streamlit run ...` with test-only switches for the WebRTC browser tests (arguments as for `streamlit`).

Environment:
  AWSOME_E2E_ICE_LOOPBACK=1      aioice gathers only 127.0.0.1 and ignores/does not answer non-loopback
                                 peers (no network namespace needed; Chromium needs
                                 --allow-loopback-in-peer-connection)
  AWSOME_E2E_WEBRTC_DEBUG=1      log streamlit-webrtc's component decisions (its context resets) at DEBUG
  AWSOME_E2E_FORCE_STALE_ONCE=1  make streamlit-webrtc reset its context once, right after the first
                                 stream starts playing: the stale-context race on demand, to test that
                                 the Live page recovers

Never import streamlit_webrtc here: its declare_component() would run outside the Streamlit runtime and
the component's iframe would get a 404. Patches that need it are applied lazily, once the app has
imported it.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import sys
from typing import Any

log = logging.getLogger("awsome.e2e.launcher")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _restrict_ice_to_loopback() -> None:
    import aioice.ice

    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"] if use_ipv4 else []
    add_remote, on_request = aioice.ice.Connection._add_remote_candidate, aioice.ice.Connection.request_received

    def add_loopback_only(self: Any, remote_candidate: Any, remote_addr: Any) -> Any:
        return add_remote(self, remote_candidate, remote_addr) if _is_loopback(str(remote_addr)) else None

    def answer_loopback_only(self: Any, message: Any, addr: Any, protocol: Any) -> Any:
        return on_request(self, message, addr, protocol) if _is_loopback(str(addr[0])) else None

    aioice.ice.Connection._add_remote_candidate = add_loopback_only
    aioice.ice.Connection.request_received = answer_loopback_only


def _force_stale_reset_once() -> None:
    import streamlit.runtime.runtime as rt

    send = rt.Runtime._send_message
    state = {"patched": False, "fired": False}

    def send_and_patch(self: Any, session_info: Any, msg: Any) -> Any:
        swc = sys.modules.get("streamlit_webrtc.component")
        if swc is not None and hasattr(swc, "_get_or_create_context") and not state["patched"]:  # fully imported
            state["patched"] = True
            get_or_create = swc._get_or_create_context

            def forcing(key: str) -> Any:
                import streamlit as st

                ctx = st.session_state.get(key)
                info = swc.get_this_session_info()
                if not state["fired"] and ctx is not None and ctx.state.playing and info is not None:
                    state["fired"] = True
                    # what the race leaves behind: a last-rendered count two runs behind the current one
                    ctx._last_rendered_run_count = swc.get_script_run_count(info) - 2
                    log.warning("E2E: forcing streamlit-webrtc's stale-context reset for key=%s", key)
                return get_or_create(key)

            swc._get_or_create_context = forcing
        return send(self, session_info, msg)

    rt.Runtime._send_message = send_and_patch


def main() -> None:
    if os.environ.get("AWSOME_E2E_ICE_LOOPBACK") == "1":
        _restrict_ice_to_loopback()
    if os.environ.get("AWSOME_E2E_WEBRTC_DEBUG") == "1":
        logging.getLogger("streamlit_webrtc.component").setLevel(logging.DEBUG)
    if os.environ.get("AWSOME_E2E_FORCE_STALE_ONCE") == "1":
        _force_stale_reset_once()

    from streamlit.web import cli

    sys.argv[0] = "streamlit"
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
