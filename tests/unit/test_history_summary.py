"""Streaks, summary text, time zones and figures of a user's history: pure numpy, no database."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

import numpy as np
import pytest

from awsome_core.charts import PlotSpec
from awsome_core.emotions import EMOTION_COLORS, EMOTIONS, VALENCE_AROUSAL
from awsome_core.history import figures
from awsome_core.history.queries import HistoryFrame, PlayedTrack, StrategyEffect
from awsome_core.history.summary import (
    compute_streaks,
    day_range,
    emotion_counts,
    period_phrase,
    resolve_timezone,
    summary_text,
    to_local,
    weekday_hour_grid,
)


def _times(*stamps: str) -> np.ndarray:
    return np.array(stamps, dtype="datetime64[us]")


def _frame(stamps: Sequence[str], emotions: Sequence[str]) -> HistoryFrame:
    """One one-hot reading per stamp (UTC), with that emotion's valence and arousal."""
    idx = np.array([EMOTIONS.index(e) for e in emotions], dtype=np.int8)
    return HistoryFrame(
        event_id=np.arange(len(stamps), dtype=np.int64),
        created_at=_times(*stamps),
        probabilities=np.eye(len(EMOTIONS))[idx],
        valence=np.array([VALENCE_AROUSAL[e][0] for e in emotions]),
        arousal=np.array([VALENCE_AROUSAL[e][1] for e in emotions]),
        emotion=idx,
        source=np.zeros(len(stamps), dtype=np.int8),
    )


class TestStreaks:
    def test_counts_consecutive_days_up_to_today(self) -> None:
        times = _times(
            "2026-03-01T08:00",
            "2026-03-02T09:00",
            "2026-03-02T20:00",
            "2026-03-05T07:00",
            "2026-03-06T07:00",
            "2026-03-07T23:59",
        )
        streaks = compute_streaks(times, today=date(2026, 3, 7))
        assert (streaks.current, streaks.longest, streaks.active_days) == (3, 3, 5)

    def test_current_streak_survives_until_the_end_of_the_next_day(self) -> None:
        times = _times("2026-03-05T07:00", "2026-03-06T07:00")
        assert compute_streaks(times, today=date(2026, 3, 7)).current == 2
        assert compute_streaks(times, today=date(2026, 3, 8)).current == 0
        assert compute_streaks(times, today=date(2026, 3, 8)).longest == 2

    def test_days_are_local_days(self) -> None:
        times = _times("2026-03-01T23:30", "2026-03-02T00:30")  # one local day in UTC-5, two in UTC
        assert compute_streaks(times, today=date(2026, 3, 2)).active_days == 2
        assert compute_streaks(times, tz="America/New_York", today=date(2026, 3, 1)).active_days == 1

    def test_no_readings_no_streak(self) -> None:
        assert compute_streaks(_times(), today=date(2026, 3, 1)) == compute_streaks(_times())
        assert compute_streaks(_times()).longest == 0


class TestTimeZones:
    def test_to_local_follows_daylight_saving_time(self) -> None:
        local = to_local(_times("2026-01-15T12:00", "2026-07-15T12:00"), "Europe/Berlin")
        assert local.tolist() == [datetime(2026, 1, 15, 13, 0), datetime(2026, 7, 15, 14, 0)]

    def test_none_and_unknown_zones_mean_utc(self) -> None:
        times = _times("2026-01-15T12:00")
        assert to_local(times, None) is times
        assert resolve_timezone("Not/AZone") is UTC
        assert to_local(times, "Not/AZone").tolist() == times.tolist()

    def test_day_range_covers_whole_local_days(self) -> None:
        since, until = day_range(date(2026, 3, 1), date(2026, 3, 7), "Europe/Berlin")
        assert (since, until) == (datetime(2026, 2, 28, 23, tzinfo=UTC), datetime(2026, 3, 7, 23, tzinfo=UTC))
        assert day_range(date(2026, 3, 1), date(2026, 3, 1)) == (
            datetime(2026, 3, 1, tzinfo=UTC),
            datetime(2026, 3, 2, tzinfo=UTC),
        )

    def test_period_phrase(self) -> None:
        today = date(2026, 3, 7)
        assert period_phrase(date(2026, 3, 1), today, today) == "this week"
        assert period_phrase(today, today, today) == "today"
        assert period_phrase(date(2026, 2, 1), date(2026, 2, 28), today) == "from 1 Feb to 28 Feb"
        assert period_phrase(date(2025, 2, 1), date(2025, 2, 1), today) == "on 1 Feb 2025"


class TestCountsAndSummary:
    def test_weekday_hour_grid_places_readings_in_local_cells(self) -> None:
        frame = _frame(["2026-03-07T09:15", "2026-03-07T09:45", "2026-03-09T23:30"], ["happy", "sad", "neutral"])
        counts, mean = weekday_hour_grid(frame)  # 7 March 2026 is a Saturday, 9 March a Monday
        assert counts.shape == (7, 24) and counts.sum() == 3
        assert counts[5, 9] == 2 and mean[5, 9] == pytest.approx((0.90 + 0.15) / 2)
        assert counts[0, 23] == 1 and np.isnan(mean[0, 0])
        counts_ny, _ = weekday_hour_grid(frame, "America/New_York")  # UTC-5, then UTC-4 from 8 March
        assert counts_ny[5, 4] == 2 and counts_ny[0, 19] == 1

    def test_emotion_counts_include_zeros(self) -> None:
        counts = emotion_counts(_frame(["2026-03-07T09:00", "2026-03-07T10:00"], ["sad", "sad"]))
        assert counts == {**dict.fromkeys(EMOTIONS, 0), "sad": 2}

    def test_summary_names_the_main_mood_and_the_happiest_time(self) -> None:
        stamps = [f"2026-03-0{d}T{h:02d}:00" for d in (2, 3, 4) for h in (8, 15, 20)] + ["2026-03-07T09:00"] * 3
        emotions = ["neutral"] * 9 + ["happy"] * 3  # Saturday mornings are the happy ones
        text = summary_text(_frame(stamps, emotions), period="this week")
        assert text == "Mostly calm this week (75% of 12 readings); happiest on Saturday mornings."

    def test_summary_of_one_reading_and_of_none(self) -> None:
        assert summary_text(_frame(["2026-03-07T09:00"], ["sad"])) == "Mostly sad in this period (100% of 1 reading)."
        assert summary_text(HistoryFrame(), period="today") == "No readings today."


class TestFigures:
    BUILDERS = (
        figures.timeline_figure,
        figures.probability_area_figure,
        figures.top_emotion_figure,
        figures.heatmap_figure,
    )

    @pytest.mark.parametrize("build", BUILDERS)
    def test_empty_data_gives_a_figure_that_says_so(self, build: Callable[[HistoryFrame], PlotSpec]) -> None:
        fig = build(HistoryFrame())
        assert isinstance(fig, PlotSpec) and len(fig.data) == 0
        assert fig.figure().layout.annotations[0].text == "No readings in this range"
        fig.figure().to_json()  # serializable

    def test_help_figure_without_effects_says_so(self) -> None:
        effects = [StrategyEffect("match", 0, float("nan"), 0)]
        assert "within an hour" in figures.help_figure(effects).figure().layout.annotations[0].text
        assert figures.help_figure([StrategyEffect("lift", 2, 0.3, 2)]).figure().data[0].y == (0.3,)

    def test_figures_use_the_emotion_colours(self) -> None:
        frame = _frame(["2026-03-07T09:00", "2026-03-08T10:00"], ["happy", "sad"])
        area = figures.probability_area_figure(frame).figure()
        assert [t.name for t in area.data] == list(EMOTIONS)
        assert [t.line.color for t in area.data] == [EMOTION_COLORS[e] for e in EMOTIONS]
        bars = figures.top_emotion_figure(frame).figure().data[0]
        assert list(bars.marker.color) == [EMOTION_COLORS[e] for e in EMOTIONS] and bars.y[3] == 1
        assert len(figures.timeline_figure(frame).data) == 2
        heat = figures.heatmap_figure(frame, tz="Europe/Berlin").figure().data[0]
        assert heat.z[5][10] == pytest.approx(0.90)  # Saturday 10:00 in Berlin

    def test_long_ranges_are_averaged_into_bins(self) -> None:
        times = np.datetime64("2026-01-01T00:00", "us") + np.arange(20_000) * np.timedelta64(15, "m")
        values = np.column_stack([np.linspace(0, 1, 20_000), np.full(20_000, 0.5)])
        x, y = figures.bin_series(times, values, max_points=500)
        assert len(x) <= 500 and y.shape == (len(x), 2)
        assert np.all(np.diff(x) > np.timedelta64(0, "us")) and np.allclose(y[:, 1], 0.5)
        few_x, few_y = figures.bin_series(times[:10], values[:10])
        assert np.array_equal(few_x, times[:10]) and np.array_equal(few_y, values[:10])

    def test_played_table_shows_local_times_and_ratings(self) -> None:
        played = PlayedTrack(datetime(2026, 3, 7, 9, 0, tzinfo=UTC), 1, "sad", "lift", 1, 7, "Song", "A;B", None, -1)
        row = figures.played_table([played], tz="Europe/Berlin")[0]
        assert row == {"When": "07 Mar 10:00", "Mood": "sad", "You": "disliked", "Track": "Song · A, B"}  # fits a phone

    def test_titles_wrap_and_legends_sit_under_the_plot(self) -> None:
        assert figures.wrap_title("When you feel good: mean valence by weekday and hour of day").split("<br>") == [
            "When you feel good: mean valence",
            "by weekday and hour of day",
        ]
        spec = figures.probability_area_figure(_frame(["2026-03-07T09:00", "2026-03-08T10:00"], ["happy", "sad"]))
        fig = spec.figure()
        assert all(len(line) <= figures.TITLE_WRAP for line in fig.layout.title.text.split("<br>"))
        assert fig.layout.legend.yref == "container" and fig.layout.legend.y < 0.05  # at the bottom, off the title
        assert fig.layout.margin.t >= 30 + 20 * (fig.layout.title.text.count("<br>") + 1)
