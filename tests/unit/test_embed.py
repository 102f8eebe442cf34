"""Spotify embed HTML: the player for valid ids, a search link otherwise, and escaping of every string."""

from __future__ import annotations

import re

import pytest

from awsome_core.music.catalog import TrackRecord
from awsome_core.music.embed import display_artists, embed_html, embed_url, is_spotify_id, search_url

XSS = "<img src=x onerror=alert(1)>"
VALID_ID = "4vxeeLNZHjOPGMwZA0fHQi"


def test_embed_html_renders_the_player_for_a_valid_id() -> None:
    html = embed_html(TrackRecord(title="Happy", artists="Pharrell Williams", spotify_id=VALID_ID))
    assert f'src="https://open.spotify.com/embed/track/{VALID_ID}?utm_source=generator"' in html
    assert 'height="152"' in html
    assert 'height="352"' in embed_html(TrackRecord("Happy", "Pharrell Williams", VALID_ID), compact=False)


@pytest.mark.parametrize("spotify_id", [VALID_ID, None])
def test_embed_html_renders_a_script_title_as_text(spotify_id: str | None) -> None:
    html = embed_html(TrackRecord(title=XSS, artists=f'{XSS};"quoted" & co', spotify_id=spotify_id))
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert '"quoted"' not in html and "&quot;quoted&quot; &amp; co" in html
    assert len(re.findall(r"<(iframe|div|a|strong)\b", html)) == html.count("<") - html.count("</")


def test_embed_html_falls_back_to_a_search_link_without_an_id() -> None:
    html = embed_html(TrackRecord(title="Someone Like You", artists="Adele", spotify_id=None))
    assert "<iframe" not in html
    assert 'href="https://open.spotify.com/search/Someone%20Like%20You%20Adele"' in html
    assert "Open in Spotify" in html
    assert 'rel="noopener noreferrer"' in html


@pytest.mark.parametrize(
    "bad_id",
    ['abc"><script>alert(1)</script>', "4vxeeLNZHjOPGMwZA0fHQ", "4vxeeLNZHjOPGMwZA0fHQi\n", "../../../x/aaaaaaaaaaaaa"],
)
def test_embed_html_never_puts_an_invalid_id_into_a_url(bad_id: str) -> None:
    html = embed_html(TrackRecord(title="t", artists="a", spotify_id=bad_id))
    assert "embed/track" not in html
    assert bad_id.strip() not in html
    assert embed_url(bad_id) is None
    assert not is_spotify_id(bad_id)


def test_search_url_percent_encodes_the_query() -> None:
    url = search_url('AC/DC & "Friends"?#', "AC/DC;Other")
    assert url == "https://open.spotify.com/search/AC%2FDC%20%26%20%22Friends%22%3F%23%20AC%2FDC"


def test_display_artists_joins_with_commas() -> None:
    assert display_artists("Mark Ronson; Bruno Mars") == "Mark Ronson, Bruno Mars"
    assert display_artists("") == ""


def test_embed_html_names_unknown_metadata() -> None:
    html = embed_html(TrackRecord(title="", artists="", spotify_id=VALID_ID))
    assert "Unknown title by Unknown artist" in html
