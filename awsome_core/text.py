"""Rendering user- and catalog-supplied strings safely."""

from __future__ import annotations

import html
import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<&$:=\"'])")


def escape_markdown(text: str) -> str:
    """Escape *text* so Streamlit's markdown shows it literally (no formatting, links, math or HTML)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


def escape_html(text: str) -> str:
    """Escape *text* for an HTML context (attributes included)."""
    return html.escape(str(text), quote=True)
