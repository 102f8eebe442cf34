"""The pure parts of scripts/bench_live_vs_fer.py: frames, the served-TTA reading, the verdict, the summary
and the simulated camera clock. No timing is asserted here; the benchmark itself prints the figures."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import scripts.bench_live_vs_fer as bench
from awsome_core.vision.live import LiveProcessor
from scripts.bench_live_vs_fer import (
    FACE_CENTER,
    FRAME_H,
    FRAME_W,
    CameraClock,
    Pose,
    build_frames,
    judge,
    judged_settings,
    place_face,
    served_tta,
    summarize_times,
)


def marked_image() -> np.ndarray:
    """A black 512×512 RGB image with one white pixel block on the astronaut's face centre."""
    image = np.zeros((512, 512, 3), np.uint8)
    x, y = int(FACE_CENTER[0]), int(FACE_CENTER[1])
    image[y - 2 : y + 3, x - 2 : x + 3] = 255
    return image


def marker_position(frame: np.ndarray) -> tuple[float, float]:
    ys, xs = np.nonzero(frame[..., 0] > 128)
    return float(xs.mean()), float(ys.mean())


class TestPlaceFace:
    @pytest.mark.parametrize("pose", [Pose(1.0, 0.5, 0.5), Pose(1.4, 0.3, 0.6), Pose(0.8, 0.7, 0.4, mirror=True)])
    def test_place_face_puts_the_face_centre_where_the_pose_says(self, pose: Pose) -> None:
        frame = place_face(marked_image(), pose)
        assert frame.shape == (FRAME_H, FRAME_W, 3) and frame.dtype == np.uint8
        x, y = marker_position(frame)
        assert x == pytest.approx(pose.cx * FRAME_W, abs=1.5)
        assert y == pytest.approx(pose.cy * FRAME_H, abs=1.5)

    def test_place_face_converts_rgb_to_bgr(self) -> None:
        image = np.zeros((512, 512, 3), np.uint8)
        image[..., 0] = 200  # red in RGB
        frame = place_face(image, Pose(1.0, 0.5, 0.5))
        assert frame[FRAME_H // 2, FRAME_W // 2].tolist() == [0, 0, 200]


class TestBuildFrames:
    def test_build_frames_is_deterministic_and_cycles_poses(self) -> None:
        poses = (Pose(1.0, 0.3, 0.5), Pose(1.0, 0.7, 0.5))
        a = build_frames(marked_image(), 4, poses)
        b = build_frames(marked_image(), 4, poses)
        assert a.shape == (4, FRAME_H, FRAME_W, 3) and a.dtype == np.uint8
        assert np.array_equal(a, b)
        xs = [marker_position(f)[0] for f in a]
        assert [round(x / FRAME_W, 1) for x in xs] == [0.3, 0.7, 0.3, 0.7]  # jitter is a few pixels only

    def test_build_frames_differ_from_frame_to_frame(self) -> None:
        frames = build_frames(marked_image(), 2, (Pose(1.0, 0.5, 0.5),))
        assert not np.array_equal(frames[0], frames[1])  # jitter and noise, like a webcam


class TestServedTta:
    @pytest.mark.parametrize(
        ("card", "expected"),
        [
            ({"serving_tta": "flip"}, True),
            ({"serving_tta": "none"}, False),
            ({"evaluation": {"fer2013_val": {"tta_mode": "flip"}}}, None),  # evaluated with TTA ≠ served
            ({}, None),
        ],
    )
    def test_served_tta_reads_the_card(self, card: dict[str, Any], expected: bool | None) -> None:
        assert served_tta(card) is expected

    def test_judged_settings_requires_both_when_the_card_is_silent(self) -> None:
        assert judged_settings({}, "card")[0] == ["ours_plain", "ours_tta"]
        assert judged_settings({"serving_tta": "flip"}, "card")[0] == ["ours_tta"]
        assert judged_settings({"serving_tta": "flip"}, "off")[0] == ["ours_plain"]


class TestJudge:
    def test_judge_passes_when_five_times_faster_and_as_accurate(self) -> None:
        verdict = judge(ours_ms=10.0, fer_ms=50.0, ours_acc=0.655, fer_acc=0.655)
        assert verdict.passed and verdict.speed_ratio == pytest.approx(5.0) and verdict.reasons == ()

    def test_judge_fails_when_not_fast_enough(self) -> None:
        verdict = judge(ours_ms=10.0, fer_ms=49.0, ours_acc=0.7, fer_acc=0.6)
        assert not verdict.passed and "4.9×" in verdict.reasons[0]

    def test_judge_fails_when_less_accurate(self) -> None:
        verdict = judge(ours_ms=1.0, fer_ms=100.0, ours_acc=0.60, fer_acc=0.65)
        assert not verdict.passed and verdict.reasons == ("accuracy 60.00% < fer's 65.00%",)

    def test_judge_fails_on_missing_figures(self) -> None:
        assert not judge(ours_ms=1.0, fer_ms=float("nan"), ours_acc=0.7, fer_acc=0.6).passed
        assert not judge(ours_ms=float("nan"), fer_ms=50.0, ours_acc=0.7, fer_acc=0.6).passed
        assert not judge(ours_ms=0.0, fer_ms=50.0, ours_acc=0.7, fer_acc=0.6).passed


def test_summarize_times_reports_median_fps_and_faces() -> None:
    summary = summarize_times([0.010, 0.020, 0.030, 0.040], [1, 1, 0, 2])
    assert summary["median_ms"] == pytest.approx(25.0)
    assert summary["fps"] == pytest.approx(40.0)
    assert summary["throughput_fps"] == pytest.approx(40.0)
    assert summary["faces_per_frame"] == pytest.approx(1.0) and summary["frames_with_face"] == pytest.approx(0.75)


def test_camera_clock_lets_live_processor_analyse_every_frame() -> None:
    def slow_analyze(image: np.ndarray, **_: object) -> list[Any]:
        time.sleep(0.002)  # real time passes; the simulated camera's time does not
        return []

    clock = CameraClock(fps=15)
    processor = LiveProcessor(object(), cpu_share=0.5, clock=clock, analyze=slow_analyze)  # type: ignore[arg-type]
    for _ in range(10):
        clock.tick()
        processor.process(np.zeros((48, 64, 3), np.uint8))
    snap = processor.snapshot()
    assert snap.frames_in == snap.frames_analyzed == 10
    assert clock() == pytest.approx(10 / 15)


def test_missing_prerequisites_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "FER_PYTHON", tmp_path / ".venv-fer" / "bin" / "python")
    monkeypatch.setattr(bench, "DATA", tmp_path / "shared" / "fer2013_val.npz")
    missing = bench.missing_prerequisites()
    assert len(missing) == 2
    assert "scripts/fer_env.sh" in missing[0] and "../shared/data" in missing[1]
