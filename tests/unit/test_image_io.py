"""decode_image: every way an upload can be wrong becomes InvalidImage with a readable message."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from awsome_core.errors import InvalidImage
from awsome_core.vision.image_io import NOT_A_PICTURE, decode_image

MB = 1024 * 1024


def encode(image: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def gradient_rgb(w: int = 64, h: int = 48) -> Image.Image:
    x = np.zeros((h, w, 3), np.uint8)
    x[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[None]
    x[..., 1] = 100
    x[..., 2] = np.linspace(0, 255, h, dtype=np.uint8)[:, None]
    return Image.fromarray(x)


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_bomb(width: int, height: int) -> bytes:
    """A valid PNG header for a huge grayscale image whose pixel data is a few bytes (never decoded)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + png_chunk(b"IEND", b"")
    )


def test_decode_image_reads_jpeg_png_webp_as_bgr() -> None:
    for fmt in ("JPEG", "PNG", "WEBP"):
        out = decode_image(encode(gradient_rgb(), fmt), max_bytes=MB)
        assert out.shape == (48, 64, 3) and out.dtype == np.uint8
        assert out[..., 1].mean() == pytest.approx(100, abs=6)  # green stays green
        assert out[0, -1, 2] > 200 and out[0, 0, 2] < 40  # red grows to the right: BGR order, channel 2


def test_decode_image_refuses_empty_file() -> None:
    with pytest.raises(InvalidImage, match="empty"):
        decode_image(b"", max_bytes=MB)


def test_decode_image_refuses_text_renamed_jpg() -> None:
    with pytest.raises(InvalidImage) as err:
        decode_image(b"hello, this is not a picture\n" * 10, max_bytes=MB)
    assert str(err.value) == NOT_A_PICTURE


def test_decode_image_refuses_other_formats() -> None:
    with pytest.raises(InvalidImage, match="JPEG, PNG or WebP"):
        decode_image(encode(gradient_rgb(), "BMP"), max_bytes=MB)


def test_decode_image_refuses_truncated_jpeg() -> None:
    data = encode(gradient_rgb(640, 480), "JPEG", quality=95)
    with pytest.raises(InvalidImage, match="damaged or incomplete"):
        decode_image(data[: len(data) // 2], max_bytes=MB)


def test_decode_image_refuses_file_over_max_bytes() -> None:
    with pytest.raises(InvalidImage, match="limit is"):
        decode_image(encode(gradient_rgb(), "PNG"), max_bytes=100)


@pytest.mark.parametrize("side", [10_000, 20_000])
def test_decode_image_refuses_png_bomb_fast_without_decoding(side: int) -> None:
    data = png_bomb(side, side)
    assert len(data) < 2000
    start = time.perf_counter()
    with pytest.raises(InvalidImage, match=f"{side}×{side} pixels; the limit is 16 megapixels for PNG"):
        decode_image(data, max_bytes=MB)
    assert time.perf_counter() - start < 0.5


def test_decode_image_applies_exif_orientation() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    data = encode(gradient_rgb(64, 32), "JPEG", exif=exif.tobytes())
    out = decode_image(data, max_bytes=MB)
    assert out.shape[:2] == (64, 32)


def test_decode_image_converts_grayscale_to_three_equal_channels() -> None:
    gray = Image.fromarray(np.tile(np.arange(0, 250, 5, dtype=np.uint8), (20, 1)), mode="L")
    out = decode_image(encode(gray, "PNG"), max_bytes=MB)
    assert out.shape == (20, 50, 3)
    assert (out[..., 0] == out[..., 2]).all() and out[0, 10, 0] == 50


def test_decode_image_composites_transparency_on_white() -> None:
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[:, :5] = (255, 0, 0, 255)  # opaque red left half, transparent right half
    out = decode_image(encode(Image.fromarray(rgba, mode="RGBA"), "PNG"), max_bytes=MB)
    assert tuple(out[5, 1]) == (0, 0, 255) and tuple(out[5, 8]) == (255, 255, 255)


def test_decode_image_handles_palette_with_transparency() -> None:
    image = Image.new("P", (8, 8), 0)
    image.putpalette([0, 0, 255] + [0, 0, 0] * 255)
    image.info["transparency"] = 0
    out = decode_image(encode(image, "PNG", transparency=0), max_bytes=MB)
    assert tuple(out[0, 0]) == (255, 255, 255)


def test_decode_image_scales_16_bit_png_instead_of_clipping() -> None:
    values = np.array([[0, 32768, 65535]], dtype=np.uint16).repeat(4, axis=0)
    image = Image.fromarray(values)
    assert image.mode.startswith("I")
    out = decode_image(encode(image, "PNG"), max_bytes=MB)
    assert list(out[0, :, 0]) == [0, 128, 255]


def test_decode_image_shrinks_long_side_to_max_side() -> None:
    out = decode_image(encode(gradient_rgb(4000, 1000), "JPEG"), max_bytes=10 * MB)
    assert out.shape == (480, 1920, 3)
    assert decode_image(encode(gradient_rgb(4000, 1000), "PNG"), max_bytes=10 * MB, max_side=None).shape[1] == 4000


def test_decode_image_allows_bigger_jpegs_than_pngs() -> None:
    """A JPEG is decoded at reduced scale, a PNG at full size: 20 MP passes as JPEG only."""
    image = gradient_rgb(5000, 4000)
    assert decode_image(encode(image, "JPEG", quality=50), max_bytes=10 * MB).shape == (1536, 1920, 3)
    with pytest.raises(InvalidImage, match="5000×4000 pixels; the limit is 16 megapixels for PNG"):
        decode_image(encode(image, "PNG"), max_bytes=10 * MB)


def test_decode_image_rotates_and_scales_a_big_picture_after_reducing_it() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(gradient_rgb(4000, 2000), "PNG", exif=exif.tobytes())
    out = decode_image(data, max_bytes=10 * MB)
    assert out.shape == (1920, 960, 3)  # reduced 2×, rotated to portrait, then scaled to 1920


def test_decode_image_scales_a_big_dark_16_bit_png_like_a_small_one() -> None:
    values = np.full((3000, 3000), 200, dtype=np.uint16)  # dark: 200 of 65535
    small, big = (decode_image(encode(Image.fromarray(v), "PNG"), max_bytes=10 * MB) for v in (values[:8, :8], values))
    assert small[0, 0, 0] == big[0, 0, 0] == 1


def test_decode_image_ignores_a_broken_exif_block() -> None:
    data = encode(gradient_rgb(64, 32), "JPEG", exif=b"Exif\x00\x00II*\x00\x08\x00\x00\x00\xff\xff\x12\x01")
    assert decode_image(data, max_bytes=MB).shape == (32, 64, 3)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_decode_image_never_raises_anything_but_invalid_image(data: bytes) -> None:
    try:
        decode_image(data, max_bytes=MB)
    except InvalidImage:
        pass


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=10, max_value=4000))
def test_decode_image_truncated_png_at_any_point_is_invalid(cut: int) -> None:
    data = encode(gradient_rgb(120, 90), "PNG")
    try:
        decode_image(data[: min(cut, len(data) - 1)], max_bytes=MB)
    except InvalidImage:
        pass
