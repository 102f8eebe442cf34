"""Checks shared by the security browser tests: injected markup in any frame, secrets in the server log."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from typing import Any

#: Every payload's script carries this mark, so injected markup is found wherever it lands.
MARK = "awsome-xss"

#: Every element of a document, the open shadow roots' too (the music cards draw theirs in one).
DEEP_ELEMENTS = """(root) => {
  const out = [];
  const walk = (node) => {
    for (const el of node.querySelectorAll('*')) {
      out.push(el);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(root || document);
  return out;
}"""

_FIND_INJECTED = f"""(mark) => {{
  const bad = [];
  for (const el of ({DEEP_ELEMENTS})()) {{
    for (const a of el.attributes) {{
      const value = a.value.trim().toLowerCase();
      if (a.name.startsWith('on') && a.value.includes(mark)) bad.push(el.outerHTML.slice(0, 300));
      if (['href', 'src', 'action', 'formaction'].includes(a.name) && value.startsWith('javascript:'))
        bad.push(el.outerHTML.slice(0, 300));
    }}
    if (el.tagName === 'SCRIPT' && el.textContent.includes(mark)) bad.push(el.outerHTML.slice(0, 300));
  }}
  return bad;
}}"""


def app_frames(page: Any) -> list[Any]:
    """The page's own frames: the main one and the components' ``srcdoc`` iframes. Not the Spotify players'
    frames: they point at open.spotify.com, which the test browser cannot reach (an evaluate there never
    returns); the attributes of those iframes are checked from their parent frame."""
    origin = page.url.split("/", 3)[:3]
    return [f for f in page.frames if f.url.startswith("about:") or f.url.split("/", 3)[:3] == origin]


def injected_elements(page: Any) -> list[str]:
    """Elements, in the page and every frame of its own (component iframes included), that carry a payload's
    event handler or script, or a ``javascript:`` URL."""
    found: list[str] = []
    for frame in app_frames(page):
        try:
            found += [f"{frame.url[:60]}: {html}" for html in frame.evaluate(_FIND_INJECTED, MARK)]
        except Exception as e:  # a frame that navigated away or was detached meanwhile (Playwright raises)
            if "detached" not in str(e) and "navigat" not in str(e) and "destroyed" not in str(e):
                raise
    return found


def assert_no_injection(page: Any) -> None:
    assert page.dialogs == [], f"a payload ran: {page.dialogs}"
    assert injected_elements(page) == []


def leaked_secrets(log: str, secrets: Mapping[str, str], images: Iterable[bytes] = ()) -> list[str]:
    """Names of *secrets* (and ``image N``) found in *log*; for secrets also their base64 form, for images any
    32-byte window of the file as raw text, hex, base64 or Python ``repr``."""
    leaks = [name for name, value in secrets.items() if value and value in log]
    leaks += [
        f"{name} (base64)"
        for name, value in secrets.items()
        if len(value) >= 8 and base64.b64encode(value.encode()).decode().rstrip("=")[:-2] in log
    ]
    for n, data in enumerate(images):
        for start in range(0, max(1, len(data) - 32), max(1, len(data) // 64)):
            window = data[start : start + 32]
            forms = (
                binascii.hexlify(window).decode(),
                base64.b64encode(window).decode()[4:-4],
                repr(window)[2:-1],
                window.decode("latin-1"),
            )
            if any(len(form) >= 16 and form in log for form in forms):
                leaks.append(f"image {n} bytes at {start}")
                break
    return leaks
