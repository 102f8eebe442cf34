"""scripts/load_live.py reads each stream's analysed rate from the Live page's own details line: the two must
agree, or the capacity figure silently reads 0 fps (it did once, after the page's wording changed)."""

from __future__ import annotations

from awsome_core.vision.live import LiveSnapshot
from scripts.load_live import _RATE
from ui.live_mood import details_text


def test_the_load_script_reads_the_rate_the_live_page_shows() -> None:
    snap = LiveSnapshot(None, 0, 11.7, None, 0.0, frames_in=300, frames_analyzed=240)
    match = _RATE.search(details_text(snap))
    assert match is not None, details_text(snap)
    assert float(match.group(1)) == 11.7
