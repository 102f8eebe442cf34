"""The About page under AppTest: a plain summary first (what happens to your face, accuracy in one sentence
read from the model card), the card's figures in an expander, names without Markdown escapes."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from awsome_core.training.card import load_card
from tests.conftest import PROJECT_ROOT

PAGE = PROJECT_ROOT / "app_pages" / "about.py"


def _about(user_id: int = 1) -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.session_state["authentication_status"] = True
    at.session_state["user_id"] = user_id
    at.session_state["username"] = "alice"
    at.session_state["name"] = "Alice"
    return at.run()


def test_about_opens_with_a_plain_summary_then_the_card_in_an_expander(app_env: str) -> None:
    at = _about()
    assert not at.exception
    first, accuracy = at.markdown[0].value, at.markdown[1].value
    assert "**What AWSome does with your face.**" in first
    assert "thrown away" in first and "Account page" in first
    card = load_card(PROJECT_ROOT / "models" / "emotion.json")
    evaluation = card.evaluation["fer2013_val"]
    served = evaluation.tta.get(card.serving_mode("photo"), evaluation.plain)
    assert f"{served.accuracy:.0%} of the time" in accuracy and f"{evaluation.rows:,} faces" in accuracy
    worst = min(zip(served.recall, served.labels, strict=True))[1]
    assert f"least often about {worst}" in accuracy
    (card_box,) = [e for e in at.expander if "model card" in e.label]
    assert any("PublicTest accuracy" in m.label for m in card_box.metric)  # the figures live in the expander
    assert len(at.main.metric) == len(card_box.metric)  # no figure above the summary or outside the card


def test_names_are_shown_without_escape_backslashes(app_env: str) -> None:
    at = _about()
    version_line = next(m.value for m in at.markdown if m.value.startswith("Version `"))
    card = load_card(PROJECT_ROOT / "models" / "emotion.json")
    assert f"`{card.model_version}`" in version_line and "\\-" not in version_line


def test_the_card_fits_a_phone_recall_and_f1_in_whole_percent(app_env: str) -> None:
    """The confusion matrix's title is two short lines (it was cut at 390 px); recall and F1 are shown as
    whole percentages, not four decimals."""
    import json

    at = _about()
    (chart,) = at.get("plotly_chart")
    title = json.loads(chart.proto.spec)["layout"]["title"]["text"]
    assert all(len(line) <= 40 for line in title.replace("<sup>", "").replace("</sup>", "").split("<br>")), title
    (table,) = at.dataframe
    card = load_card(PROJECT_ROOT / "models" / "emotion.json")
    plain = card.evaluation["fer2013_val"].plain
    assert list(table.value["F1"]) == [round(100 * v) for v in plain.f1]
    assert list(table.value["recall"]) == [round(100 * v) for v in plain.recall]
    assert json.loads(table.proto.columns)["F1"]["type_config"]["format"] == "%d%%"  # shown as "42%"
