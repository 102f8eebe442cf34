"""The music cards' data and the votes they send back (ui/music_cards.py): what the browser draws, and that a
vote a client makes up is ignored."""

from __future__ import annotations

import logging

import pytest

from awsome_core.services.recommendations import RecommendedItem
from ui.music_cards import card_data, parse_vote


def _pick(track_id: int, *, title: str = "Song", spotify_id: str | None = "4uLU6hMCjMI75M1A2tKUQC") -> RecommendedItem:
    return RecommendedItem(
        recommendation_id=100 + track_id,
        rank=track_id,
        track_id=track_id,
        spotify_id=spotify_id,
        title=title,
        artists="A;B",
        genre="pop",
        valence=0.5,
        energy=0.5,
        tempo=120.0,
        explanation="Upbeat: matches your happy mood",
        embed_url=f"https://open.spotify.com/embed/track/{spotify_id}" if spotify_id else None,
        open_url=f"https://open.spotify.com/track/{spotify_id}" if spotify_id else "https://open.spotify.com/search/x",
    )


def test_cards_keep_the_list_order_and_show_votes_and_confirmations() -> None:
    picks = [_pick(3, title="<b>Three</b>"), _pick(1, spotify_id=None), _pick(2)]
    data = card_data(7, picks, feedback={3: 1, 2: -1}, confirmed={3: 1, 1: 0})
    cards = data["cards"]
    assert [c["key"] for c in cards] == ["7-3", "7-1", "7-2"]
    assert cards[0]["title"] == "<b>Three</b>"  # text: the browser sets it with textContent, never as markup
    assert cards[0]["artists"] == "A, B"
    assert [c["vote"] for c in cards] == [1, 0, -1]
    assert (cards[0]["note"], cards[0]["note_icon"], cards[0]["undo"]) == (
        "Liked: more like this next time.",
        "liked",
        True,
    )
    assert (cards[1]["note"], cards[1]["undo"]) == ("Vote removed.", False)  # an undo: nothing left to undo
    assert (cards[2]["note"], cards[2]["undo"]) == ("", False)  # voted elsewhere: shown, no confirmation here
    assert cards[1]["embed"] == "" and cards[1]["url"].startswith("https://open.spotify.com/search/")
    assert data["labels"]["up"].startswith("Like")


@pytest.mark.parametrize("value", [1, -1, 0])
def test_a_vote_on_a_shown_track_is_taken(value: int) -> None:
    assert parse_vote({"track": 5, "value": value}, {4, 5}) == (5, value)


@pytest.mark.parametrize(
    "raw",
    [
        {"track": 6, "value": 1},  # not in the list shown
        {"track": 5, "value": 2},
        {"track": 5, "value": True},
        {"track": "5", "value": 1},
        {"track": 5.0, "value": 1},
        {"track": 5},
        [5, 1],
        "like",
        {"track": 10**30, "value": -1},
        None,  # take_vote never passes None; a trigger of null is not a vote either
    ],
)
def test_a_vote_the_list_did_not_offer_is_ignored_and_logged(raw: object, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="ui.music_cards"):
        assert parse_vote(raw, {4, 5}) is None
    assert "ignored a vote" in caplog.text


def test_no_vote_is_no_vote_and_the_attempt_is_passed_on() -> None:
    assert card_data(7, [], {}, {})["attempt"] == 0 and card_data(7, [], {}, {}, attempt=2)["attempt"] == 2
