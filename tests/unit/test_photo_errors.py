"""analyze_photo's failures: the user always gets InvalidImage's message; a ValueError from inside the analysis
(a bug, no picture is known to cause one) is also logged with its traceback, so that it is seen."""

from __future__ import annotations

import io
import logging
from typing import Any

import numpy as np
import pytest
from PIL import Image
from skimage import data

from awsome_core.config import Settings
from awsome_core.errors import InvalidImage
from awsome_core.vision import get_classifier
from awsome_core.vision.photo import analyze_photo


def _jpeg(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


class _Broken:
    """A classifier whose every call raises, as the Photo and Live twins did when their batch sizes mixed up."""

    def predict(self, faces: Any, **kwargs: Any) -> Any:
        raise ValueError("Cannot set tensor: Dimension mismatch. Got 3 but expected 1")


def test_a_value_error_inside_the_analysis_is_shown_as_a_message_and_logged_as_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="awsome_core.vision.photo"):
        with pytest.raises(InvalidImage, match="could not be analysed"):
            analyze_photo(_jpeg(data.astronaut()), classifier=_Broken(), max_bytes=10_000_000)  # type: ignore[arg-type]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and errors[0].exc_info is not None  # the traceback is in the log


@pytest.mark.parametrize("shape", [(1, 1), (1, 5000), (5000, 1), (3, 2000)])
def test_degenerate_sizes_analyse_to_no_face_without_an_error(
    shape: tuple[int, int], caplog: pytest.LogCaptureFixture
) -> None:
    model = get_classifier(str(Settings.load({}).model_path), tta=None)
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (*shape, 3), dtype=np.uint8)).save(buf, format="PNG")
    with caplog.at_level(logging.WARNING):
        assert analyze_photo(buf.getvalue(), classifier=model, max_bytes=10_000_000).faces == ()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
