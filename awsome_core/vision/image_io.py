"""Decode uploaded bytes into a BGR image, safely and with bounded time and memory.

:func:`decode_image` returns a BGR ``uint8`` H×W×3 array (OpenCV order). It refuses, with an
:class:`~awsome_core.errors.InvalidImage` whose message a user can read:

* more than ``max_bytes`` bytes, or nothing at all;
* anything that is not a JPEG, PNG or WebP picture (text renamed ``.jpg``, PDFs, GIFs, ...);
* pictures over ``max_pixels`` pixels (JPEG) or ``max_lossless_pixels`` (PNG, WebP) -- checked from the
  header, **before** any pixel is decoded, so a small "decompression bomb" file (e.g. a 20000×20000 PNG of
  a few kilobytes) costs nothing;
* truncated or corrupt files.

Why two limits: a JPEG larger than twice ``max_side`` is decoded by libjpeg at 1/2, 1/4 or 1/8 scale, so
a 40-megapixel phone photo costs about what a 10-megapixel one does; PNG and WebP are always decoded at
full size (4 bytes a pixel at worst), so their limit is lower: 16 megapixels = at most 64 MB per decode,
about 1 s on one core (``tests/unit/test_fuzz_images.py`` checks both bounds).

After decoding, a picture whose long side exceeds ``max_side`` is shrunk by an integer factor in Pillow
(``Image.reduce``) *before* any conversion, so the EXIF rotation, grayscale/palette/16-bit/alpha
conversions and the final resize all work on the small copy. EXIF orientation (phone photos) is applied;
RGBA/LA are composited on white; 16-bit pictures are scaled, not clipped. A broken EXIF block is ignored
(the picture is still read, unrotated).
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
DAMAGED = "The picture is damaged or incomplete and cannot be read."
DEFAULT_MAX_SIDE = 1920
DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_LOSSLESS_PIXELS = 16_000_000
#: Pillow errors that mean "these bytes are not a readable picture".
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, IndexError, KeyError, TypeError, MemoryError)
#: Modes ``Image.reduce`` averages correctly; others are converted first (palette indices must not be averaged).
_REDUCIBLE = ("L", "LA", "RGB", "RGBA", "I", "F", "CMYK")


def decode_image(
    data: bytes,
    *,
    max_bytes: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_lossless_pixels: int = DEFAULT_MAX_LOSSLESS_PIXELS,
    max_side: int | None = DEFAULT_MAX_SIDE,
) -> np.ndarray:
    """Decode *data* to a BGR ``uint8`` H×W×3 array; raise :class:`InvalidImage` with a readable reason.

    :param max_bytes: largest accepted file size.
    :param max_pixels: largest accepted width × height of a JPEG, checked before decoding.
    :param max_lossless_pixels: the same for PNG and WebP (decoded at full size; see the module docstring).
    :param max_side: shrink so the long side is at most this many pixels (``None``: keep the size).
    """
    if not data:
        raise InvalidImage("The file is empty.")
    if len(data) > max_bytes:
        raise InvalidImage(f"The file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB.")
    limits = {"JPEG": max_pixels, "PNG": min(max_pixels, max_lossless_pixels)}
    limits["WEBP"] = limits["PNG"]
    image = _open(data, limits)
    width, height = image.size
    if width * height > limits[str(image.format)]:
        raise InvalidImage(_too_large(f"{width}×{height} pixels", str(image.format), limits))
    if max_side and image.format == "JPEG" and max(width, height) > 2 * max_side:
        image.draft("RGB", (max_side, max_side))  # let libjpeg decode at 1/2, 1/4 or 1/8 scale
    try:
        image.load()
        sixteen_bit = image.mode.startswith("I;16")
        image = _exif_transpose(_reduce(image, max_side))
        rgb = _to_rgb_array(image, sixteen_bit=sixteen_bit)
    except _DECODE_ERRORS as e:
        logger.info("undecodable upload (%s): %s", type(e).__name__, e)
        raise InvalidImage(DAMAGED) from e
    if max_side and max(rgb.shape[:2]) > max_side:
        scale = max_side / max(rgb.shape[:2])
        size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def _open(data: bytes, limits: dict[str, int]) -> Image.Image:
    """Open lazily (header only). Pillow's own bomb check (2× MAX_IMAGE_PIXELS) becomes InvalidImage too."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we check the size ourselves
            image = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError as e:  # over 2 × Image.MAX_IMAGE_PIXELS: refused before our own check
        raise InvalidImage(_too_large(_bomb_size(data, str(e)), _sniff_format(data), limits)) from e
    except (UnidentifiedImageError, *_DECODE_ERRORS) as e:
        raise InvalidImage(NOT_A_PICTURE) from e
    if image.size[0] < 1 or image.size[1] < 1 or image.format not in limits:
        raise InvalidImage(NOT_A_PICTURE)
    return image


def _too_large(size: str, fmt: str, limits: dict[str, int]) -> str:
    limit = limits.get(fmt, limits["JPEG"])
    kind = {"PNG": " for PNG", "WEBP": " for WebP"}.get(fmt, "")
    return f"The picture is {size}; the limit is {limit / 1e6:.0f} megapixels{kind}. Please upload a smaller one."


def _sniff_format(data: bytes) -> str:
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    return "WEBP" if data[:4] == b"RIFF" and data[8:12] == b"WEBP" else "JPEG"


def _bomb_size(data: bytes, message: str) -> str:
    """``W×H pixels`` from a PNG header, else the pixel count from Pillow's message."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return f"{int.from_bytes(data[16:20], 'big')}×{int.from_bytes(data[20:24], 'big')} pixels"
    found = re.search(r"\((\d+) pixels\)", message)
    return f"{int(found.group(1)) / 1e6:.0f} megapixels" if found else "too large"


def _reduce(image: Image.Image, max_side: int | None) -> Image.Image:
    """Shrink by the largest integer factor that keeps the long side ≥ *max_side* (box filter, in C)."""
    factor = max(image.size) // max_side if max_side else 1
    if factor < 2:
        return image
    if image.mode not in _REDUCIBLE:
        image = image.convert(_reducible_mode(image))
    reduced = image.reduce(factor)
    reduced.info = dict(image.info)  # keep the EXIF block for the orientation
    return reduced


def _reducible_mode(image: Image.Image) -> str:
    if image.mode.startswith("I;16"):
        return "I"
    if image.mode == "1":
        return "L"
    if image.mode in ("P", "PA"):
        return "RGBA" if image.mode == "PA" or "transparency" in image.info else "RGB"
    return "RGBA" if "A" in image.mode or "a" in image.mode else "RGB"


def _exif_transpose(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; a malformed EXIF block is ignored (metadata never refuses a picture)."""
    try:
        return ImageOps.exif_transpose(image) or image
    except Exception as e:  # Pillow's EXIF parser raises many kinds of error on fuzzed metadata
        logger.info("ignoring unreadable EXIF (%s): %s", type(e).__name__, e)
        return image


def _to_rgb_array(image: Image.Image, *, sixteen_bit: bool = False) -> np.ndarray:
    """RGB ``uint8`` H×W×3 from any Pillow mode: 16-bit scaled (not clipped), alpha composited on white.

    *sixteen_bit*: the file held 16-bit samples (the image may have become mode ``I`` when reduced).
    """
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        values = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if sixteen_bit or mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
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
