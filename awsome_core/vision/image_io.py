"""Decode uploaded bytes into a BGR image, safely.

:func:`decode_image` returns a BGR ``uint8`` H×W×3 array (OpenCV order). It refuses, with an
:class:`~awsome_core.errors.InvalidImage` whose message a user can read:

* more than ``max_bytes`` bytes, or nothing at all;
* anything that is not a JPEG, PNG or WebP picture (text renamed ``.jpg``, PDFs, ...);
* pictures over ``max_pixels`` pixels -- checked from the header, **before** any pixel is decoded,
  so a small "decompression bomb" file (e.g. a 20000×20000 PNG of a few kilobytes) costs nothing;
* truncated or corrupt files.

It applies the EXIF orientation (phone photos), converts grayscale, palette, RGBA/LA (composited on white)
and 16-bit pictures properly, and shrinks pictures whose long side exceeds ``max_side`` (JPEGs are
decoded at reduced scale directly), which bounds the cost of detection.
"""

from __future__ import annotations

import io
import logging
import re
import warnings

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from awsome_core.errors import InvalidImage

logger = logging.getLogger(__name__)

FORMATS = ("JPEG", "PNG", "WEBP")
NOT_A_PICTURE = "This file is not a picture we can read (JPEG, PNG or WebP)."
DEFAULT_MAX_SIDE = 1920


def decode_image(
    data: bytes, *, max_bytes: int, max_pixels: int = 40_000_000, max_side: int | None = DEFAULT_MAX_SIDE
) -> np.ndarray:
    """Decode *data* to a BGR ``uint8`` H×W×3 array; raise :class:`InvalidImage` with a readable reason.

    :param max_bytes: largest accepted file size.
    :param max_pixels: largest accepted width × height, checked before decoding.
    :param max_side: shrink so the long side is at most this many pixels (``None``: keep the size).
    """
    if not data:
        raise InvalidImage("The file is empty.")
    if len(data) > max_bytes:
        raise InvalidImage(f"The file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB.")
    image = _open(data, max_pixels)
    width, height = image.size
    if width * height > max_pixels:
        raise InvalidImage(f"The picture is {width}×{height} pixels; the limit is {max_pixels / 1e6:.0f} megapixels.")
    if max_side and image.format == "JPEG" and max(width, height) > 2 * max_side:
        image.draft("RGB", (max_side, max_side))  # let libjpeg decode at 1/2, 1/4 or 1/8 scale
    try:
        image.load()
        image = ImageOps.exif_transpose(image)
        rgb = _to_rgb_array(image)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        logger.info("undecodable upload (%s): %s", type(e).__name__, e)
        raise InvalidImage("The picture is damaged or incomplete and cannot be read.") from e
    if max_side and max(rgb.shape[:2]) > max_side:
        scale = max_side / max(rgb.shape[:2])
        size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """Open lazily (header only). Pillow's own bomb check (2× MAX_IMAGE_PIXELS) becomes InvalidImage too."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we check the size ourselves
            image = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError as e:  # over 2 × Image.MAX_IMAGE_PIXELS: refused before our own check
        raise InvalidImage(
            f"The picture is {_bomb_size(data, str(e))}; the limit is {max_pixels / 1e6:.0f} megapixels."
        ) from e
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise InvalidImage(NOT_A_PICTURE) from e
    if image.size[0] < 1 or image.size[1] < 1:
        raise InvalidImage(NOT_A_PICTURE)
    return image


def _bomb_size(data: bytes, message: str) -> str:
    """``W×H pixels`` from a PNG header, else the pixel count from Pillow's message."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return f"{int.from_bytes(data[16:20], 'big')}×{int.from_bytes(data[20:24], 'big')} pixels"
    found = re.search(r"\((\d+) pixels\)", message)
    return f"{int(found.group(1)) / 1e6:.0f} megapixels" if found else "too large"


def _to_rgb_array(image: Image.Image) -> np.ndarray:
    """RGB ``uint8`` H×W×3 from any Pillow mode: 16-bit scaled (not clipped), alpha composited on white."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        values = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
        gray = np.clip(values * (255.0 / peak) + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if mode == "F":
        gray = np.clip(np.asarray(image, dtype=np.float64), 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if mode == "P" and "transparency" in image.info or mode in ("PA", "LA", "La", "RGBa"):
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    return np.asarray(image.convert("RGB"), dtype=np.uint8)
