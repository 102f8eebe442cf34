"""Hostile and broken images at the analysis entry point (issue #7, item 1).

:func:`analyze_photo` is what the Photo page calls for an upload and for a camera snapshot, and what
``awsome predict`` calls (through :func:`predict_file`). It gets, with the real detector and model:

* random byte strings, bare or behind a real magic number (JPEG, PNG, WebP, GIF, PDF, TIFF, SVG ...);
* real pictures (the astronaut's face as baseline and progressive JPEG, grayscale and CMYK JPEG, JPEG with
  EXIF, PNG RGB/RGBA/LA/palette/16-bit, lossy and lossless WebP) mutated: bits flipped, bytes overwritten,
  cut, deleted, duplicated, inserted, spliced with another format, magic numbers swapped, header
  dimensions rewritten to extremes (PNG CRCs fixed so the decoder sees them);
* the extremes: 0 bytes, 1×1, 1×20000, 20000×20000 and 65535×65535 headers, 50 MB, the largest pictures
  the limits allow, and wrong file extensions for the CLI.

Each must end in a :class:`PhotoAnalysis` or an :class:`AwsomeError` with a readable message, within 2 s
(hypothesis ``deadline``), with the process's peak memory growth bounded; decompression bombs are refused
before decoding. ``AWSOME_FUZZ_EXAMPLES`` (default 10,000: 6,000 random, 4,000 mutated; about 30 s) and
``AWSOME_FUZZ_RANDOM=1`` (a fresh random seed instead of the reproducible one) explore further.
"""

from __future__ import annotations

import gc
import io
import os
import random
import struct
import subprocess
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from awsome_core.config import PROJECT_ROOT
from awsome_core.errors import AwsomeError, InvalidImage
from awsome_core.vision import EmotionClassifier
from awsome_core.vision.image_io import DAMAGED, NOT_A_PICTURE
from awsome_core.vision.photo import PhotoAnalysis, analyze_photo
from awsome_core.vision.predict import predict_file

MB = 1_000_000
MAX_BYTES = 10 * MB  # the app's default upload limit
EXAMPLES = int(os.environ.get("AWSOME_FUZZ_EXAMPLES", "10000"))  # in all: 60% random, 40% mutated pictures
RANDOM_EXAMPLES, MUTATED_EXAMPLES = EXAMPLES * 6 // 10, EXAMPLES - EXAMPLES * 6 // 10
FUZZ_SETTINGS = settings(
    deadline=timedelta(seconds=2),
    derandomize=os.environ.get("AWSOME_FUZZ_RANDOM") != "1",
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
#: Peak memory growth allowed for one analysis at the limits (40 MP progressive JPEG without chroma
#: subsampling: ~265 MB of libjpeg coefficient buffers; a 16 MP RGBA PNG: ~100 MB).
MEMORY_BUDGET_MB = 320
MAGICS = (
    b"\xff\xd8\xff\xe0",
    b"\xff\xd8\xff\xc2",
    b"\x89PNG\r\n\x1a\n",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    b"RIFF\xff\xff\xff\x7fWEBPVP8L",
    b"RIFF\x00\x01\x00\x00WEBPVP8X",
    b"GIF89a",
    b"%PDF-1.7\n",
    b"II*\x00",
    b"BM",
    b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'>",
    b"\x00\x00\x01\x00",
)
DIMENSIONS = (0, 1, 2, 7, 255, 256, 1920, 3841, 4000, 4001, 6325, 16383, 16384, 20000, 65535, 2**31 - 1, 2**32 - 1)
OPERATIONS = ("flip", "byte", "cut", "delete", "duplicate", "insert", "splice", "magic", "dims", "fixcrc")


# ----------------------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def classifier() -> EmotionClassifier:
    return EmotionClassifier.load(PROJECT_ROOT / "models" / "emotion.tflite", tta=None)  # as the app serves photos


def _encode(image: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def _face(side: int = 64) -> Image.Image:
    """The astronaut's head, *side* pixels square: small, so that an analysis costs a few milliseconds."""
    from skimage import data

    return Image.fromarray(data.astronaut()[20:260, 110:350]).resize((side, side))


def _seeds() -> dict[str, bytes]:
    face = _face()
    exif = Image.Exif()
    exif[0x0112] = 6
    palette = face.convert("P", palette=Image.Palette.ADAPTIVE, colors=32)
    gray16 = Image.fromarray(np.asarray(face.convert("L"), dtype=np.uint16) * 257)
    return {
        "jpeg": _encode(face, "JPEG", quality=85),
        "jpeg-progressive": _encode(face, "JPEG", quality=85, progressive=True),
        "jpeg-gray": _encode(face.convert("L"), "JPEG"),
        "jpeg-cmyk": _encode(face.convert("CMYK"), "JPEG"),
        "jpeg-exif": _encode(face, "JPEG", exif=exif.tobytes()),
        "png": _encode(face, "PNG"),
        "png-rgba": _encode(face.convert("RGBA"), "PNG"),
        "png-la": _encode(face.convert("LA"), "PNG"),
        "png-palette": _encode(palette, "PNG", transparency=0),
        "png-16bit": _encode(gray16, "PNG"),
        "webp": _encode(face, "WEBP", quality=80),
        "webp-lossless": _encode(face.convert("RGBA"), "WEBP", lossless=True),
    }


SEEDS = _seeds()


def _fix_png_crcs(buf: bytearray) -> None:
    offset = 8
    while offset + 12 <= len(buf):
        length = int.from_bytes(buf[offset : offset + 4], "big")
        end = offset + 8 + length
        if end + 4 > len(buf):
            return
        buf[end : end + 4] = struct.pack(">I", zlib.crc32(bytes(buf[offset + 4 : end])))
        offset = end + 4


def _set_dimensions(buf: bytearray, width: int, height: int) -> None:
    """Rewrite the header's width and height, as far as the format can hold them."""
    if buf[:8] == b"\x89PNG\r\n\x1a\n" and len(buf) >= 33:
        buf[16:24] = struct.pack(">II", width % 2**32, height % 2**32)
        _fix_png_crcs(buf)
    elif buf[:2] == b"\xff\xd8":
        for marker in (b"\xff\xc0", b"\xff\xc1", b"\xff\xc2"):
            at = buf.find(marker)
            if at > 0 and at + 9 <= len(buf):
                buf[at + 5 : at + 9] = struct.pack(">HH", height % 2**16, width % 2**16)
                return
    elif buf[:4] == b"RIFF" and buf[12:16] == b"VP8X" and len(buf) >= 30:
        buf[24:27] = ((width - 1) % 2**24).to_bytes(3, "little")
        buf[27:30] = ((height - 1) % 2**24).to_bytes(3, "little")
    elif buf[:4] == b"RIFF" and buf[12:16] == b"VP8 " and len(buf) >= 30:
        buf[26:30] = struct.pack("<HH", width % 2**14, height % 2**14)
    elif buf[:4] == b"RIFF" and buf[12:16] == b"VP8L" and len(buf) >= 25:
        rest = int.from_bytes(buf[21:25], "little") >> 28 << 28  # alpha hint and version bits
        bits = ((width - 1) % 2**14) | (((height - 1) % 2**14) << 14) | rest
        buf[21:25] = bits.to_bytes(4, "little")


def mutate(data: bytes, operations: list[tuple[str, int, int]]) -> bytes:
    """Apply *operations* ``(name, a, b)`` in turn; ``a`` and ``b`` pick positions, lengths and values."""
    buf = bytearray(data)
    for name, a, b in operations:
        if not buf:
            break
        i = a % len(buf)
        if name == "flip":
            buf[i] ^= 1 << (b % 8)
        elif name == "byte":
            buf[i] = (0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE, 0x10, b & 0xFF)[b % 8]
        elif name == "cut":
            del buf[i:]
        elif name == "delete":
            del buf[i : i + 1 + b % 256]
        elif name == "duplicate":
            buf[i:i] = buf[i : i + 1 + b % 512]
        elif name == "insert":
            buf[i:i] = random.Random(b).randbytes(1 + b % 64)
        elif name == "splice":
            other = list(SEEDS.values())[b % len(SEEDS)]
            buf[i:] = other[a % len(other) :]
        elif name == "magic":
            magic = MAGICS[b % len(MAGICS)]
            buf[: len(magic)] = magic
        elif name == "dims":
            _set_dimensions(buf, DIMENSIONS[a % len(DIMENSIONS)], DIMENSIONS[b % len(DIMENSIONS)])
        elif name == "fixcrc" and buf[:8] == b"\x89PNG\r\n\x1a\n":
            _fix_png_crcs(buf)
    return bytes(buf)


def _rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


@contextmanager
def peak_memory_growth() -> Iterator[list[float]]:
    """Yield a list that receives the growth of the peak RSS (MB) over the block (Linux; NaN elsewhere)."""
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (the peak) to the current RSS
        start = _rss_mb("VmRSS")
    except OSError:
        start = float("nan")
    out: list[float] = []
    yield out
    out.append(_rss_mb("VmHWM") - start if start == start else float("nan"))


class Outcomes:
    """What each input ended in, and how long it took: ``seconds`` is the CPU time of this process (what the
    input costs the server, whatever else shares the machine), ``wall`` the elapsed time (printed only)."""

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()
        self.seconds: list[float] = []
        self.wall: list[float] = []

    def run(self, data: bytes, classifier: EmotionClassifier) -> PhotoAnalysis | AwsomeError:
        start, cpu_start = time.perf_counter(), time.process_time()
        try:
            result: PhotoAnalysis | AwsomeError = analyze_photo(data, classifier=classifier, max_bytes=MAX_BYTES)
            self.kinds["faces found" if result.faces else "no face"] += 1
        except AwsomeError as e:  # anything else fails the test, with hypothesis' minimal example
            assert str(e) and "Traceback" not in str(e) and len(str(e)) < 300, repr(e)
            self.kinds[_kind(e)] += 1
            result = e
        self.seconds.append(time.process_time() - cpu_start)
        self.wall.append(time.perf_counter() - start)
        return result

    def summary(self, what: str) -> str:
        times = np.array(self.seconds) * 1000
        kinds = ", ".join(f"{k}: {n}" for k, n in self.kinds.most_common())
        return (
            f"{what}: {len(times)} inputs, CPU p50 {np.percentile(times, 50):.2f} ms, "
            f"p99 {np.percentile(times, 99):.1f} ms, max {times.max():.0f} ms "
            f"(wall max {1000 * max(self.wall):.0f} ms, load {os.getloadavg()[0]:.1f}); {kinds}"
        )


def _kind(error: AwsomeError) -> str:
    text = str(error)
    for key, label in ((NOT_A_PICTURE, "not a picture"), (DAMAGED, "damaged"), ("megapixels", "too many pixels")):
        if key in text:
            return label
    return type(error).__name__ + ": " + text[:40]


def _report(report_figure: Callable[[str], None], line: str) -> None:
    report_figure(f"[fuzz] {line}")


# ----------------------------------------------------------------------------- properties


def test_random_bytes_end_in_a_result_or_a_readable_error(
    classifier: EmotionClassifier, report_figure: Callable[[str], None]
) -> None:
    outcomes = Outcomes()
    blobs = st.binary(max_size=4096) | st.builds(bytes.__add__, st.sampled_from(MAGICS), st.binary(max_size=4096))

    @settings(FUZZ_SETTINGS, max_examples=RANDOM_EXAMPLES)
    @given(blobs)
    def run(data: bytes) -> None:
        outcomes.run(data, classifier)

    with peak_memory_growth() as growth:
        run()
    assert len(outcomes.seconds) >= RANDOM_EXAMPLES
    assert max(outcomes.seconds) < 2.0
    assert not growth[0] > MEMORY_BUDGET_MB, f"peak memory grew {growth[0]:.0f} MB"
    _report(report_figure, outcomes.summary("random bytes") + f"; peak memory growth {growth[0]:.0f} MB")


def test_mutated_real_pictures_end_in_a_result_or_a_readable_error(
    classifier: EmotionClassifier, report_figure: Callable[[str], None]
) -> None:
    outcomes = Outcomes()
    operation = st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))

    @settings(FUZZ_SETTINGS, max_examples=MUTATED_EXAMPLES)
    @given(st.sampled_from(sorted(SEEDS)), st.lists(operation, min_size=1, max_size=4))
    def run(seed: str, operations: list[tuple[str, int, int]]) -> None:
        outcomes.run(mutate(SEEDS[seed], operations), classifier)

    with peak_memory_growth() as growth:
        run()
    assert len(outcomes.seconds) >= MUTATED_EXAMPLES
    assert max(outcomes.seconds) < 2.0
    # The mutations must reach the decoder, not just the format check: both kinds of outcome occur.
    assert outcomes.kinds["damaged"] > 0 and outcomes.kinds["faces found"] + outcomes.kinds["no face"] > 0
    assert outcomes.kinds["too many pixels"] > 0
    assert not growth[0] > MEMORY_BUDGET_MB, f"peak memory grew {growth[0]:.0f} MB"
    _report(report_figure, outcomes.summary("mutated pictures") + f"; peak memory growth {growth[0]:.0f} MB")


def test_every_seed_picture_is_analysed(classifier: EmotionClassifier) -> None:
    """The unmutated seeds decode and show the face: the fuzzing starts from valid pictures."""
    for name, data in SEEDS.items():
        result = analyze_photo(data, classifier=classifier, max_bytes=MAX_BYTES)
        assert result.image_bgr.shape[:2] == (64, 64), name
        assert len(result.faces) == 1, name


# ----------------------------------------------------------------------------- extremes


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _png_bomb(side: int) -> bytes:
    """A complete, valid 1-bit PNG of *side*² black pixels: a few dozen KB that decode to side² pixels."""
    rows = zlib.compress(bytes((side + 7) // 8 + 1) * side, 9)  # filter byte + packed bits, every row
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", rows) + _png_chunk(b"IEND", b"")


def _with_dimensions(data: bytes, width: int, height: int) -> bytes:
    buf = bytearray(data)
    _set_dimensions(buf, width, height)
    return bytes(buf)


def _noise_jpeg() -> bytes:
    return _encode(_face(8), "JPEG")


EXTREMES: dict[str, tuple[Callable[[], bytes], str]] = {
    "0 bytes": (lambda: b"", "The file is empty."),
    "1×1 PNG": (lambda: _encode(Image.new("RGB", (1, 1), "white"), "PNG"), "no face"),
    "1×1 JPEG": (lambda: _encode(Image.new("RGB", (1, 1), "white"), "JPEG"), "no face"),
    "1×1 WebP": (lambda: _encode(Image.new("RGB", (1, 1), "white"), "WEBP"), "no face"),
    "1×20000 PNG": (lambda: _encode(Image.new("L", (1, 20000), 128), "PNG"), "no face"),
    "20000×1 JPEG": (lambda: _encode(Image.new("RGB", (20000, 1), "gray"), "JPEG"), "no face"),
    "20000×20000 PNG bomb": (lambda: _png_bomb(20000), "20000×20000 pixels; the limit is 16 megapixels"),
    "20000×20000 JPEG header": (lambda: _with_dimensions(_noise_jpeg(), 20000, 20000), "limit is 40 megapixels"),
    "65535×65535 JPEG header": (lambda: _with_dimensions(_noise_jpeg(), 65535, 65535), "limit is 40 megapixels"),
    "16384×16384 WebP header": (
        lambda: _with_dimensions(SEEDS["webp-lossless"], 16384, 16384),
        "the limit is 16 megapixels for WebP",
    ),
    "50 MB of random bytes": (lambda: random.Random(1).randbytes(50 * MB), "50.0 MB; the limit is 10.0 MB"),
    "50 MB JPEG (a photo with 50 MB appended)": (
        lambda: SEEDS["jpeg"] + bytes(50 * MB),
        "50.0 MB; the limit is 10.0 MB",
    ),
    "largest PNG allowed: 4000×4000 RGBA": (
        lambda: _encode(Image.new("RGBA", (4000, 4000), (200, 100, 50, 128)), "PNG"),
        "no face",
    ),
    "largest JPEG allowed: 6300×6300 progressive, no chroma subsampling": (
        lambda: _encode(Image.new("RGB", (6300, 6300), (200, 100, 50)), "JPEG", progressive=True, subsampling=0),
        "no face",
    ),
    "photo cut in half": (lambda: SEEDS["jpeg"][: len(SEEDS["jpeg"]) // 2], DAMAGED),
    "GIF": (lambda: _encode(_face(), "GIF"), NOT_A_PICTURE),
    "BMP": (lambda: _encode(_face(), "BMP"), NOT_A_PICTURE),
    "TIFF": (lambda: _encode(_face(), "TIFF"), NOT_A_PICTURE),
    "SVG with a script": (lambda: MAGICS[11] + b"<script>alert(1)</script></svg>", NOT_A_PICTURE),
    "PDF": (lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", NOT_A_PICTURE),
}


@pytest.mark.parametrize("name", list(EXTREMES))
def test_extreme_inputs(name: str, classifier: EmotionClassifier, report_figure: Callable[[str], None]) -> None:
    make, expected = EXTREMES[name]
    data = make()
    outcomes = Outcomes()
    with peak_memory_growth() as growth:
        result = outcomes.run(data, classifier)
    seconds = outcomes.seconds[0]
    if isinstance(result, AwsomeError):
        assert expected in str(result)
    else:
        assert expected == ("no face" if not result.faces else "faces found")
        assert max(result.image_bgr.shape[:2]) <= 1920
    assert seconds < 2.0
    assert not growth[0] > MEMORY_BUDGET_MB, f"peak memory grew {growth[0]:.0f} MB"
    if "bomb" in name or "header" in name:
        assert seconds < 0.5 and not growth[0] > 30, "a bomb must be refused before decoding"
    line = f"{name} ({len(data):,} bytes): {seconds * 1000:.0f} ms, +{growth[0]:.0f} MB peak, {expected}"
    _report(report_figure, line)


# ----------------------------------------------------------------------------- the CLI: files, extensions


@pytest.mark.parametrize(
    "filename, content, expected",
    [
        ("photo.jpg", "png", 1),  # PNG bytes with a .jpg name: the bytes decide
        ("photo.png", "jpeg", 1),
        ("photo", "webp", 1),
        ("photo.JPG.exe", "jpeg", 1),
        ("notes.jpg", "text", NOT_A_PICTURE),
        ("movie.png", "gif", NOT_A_PICTURE),
        ("huge.jpg", "50mb", "50.0 MB; the limit is 10.5 MB"),
        ("empty.png", "empty", "The file is empty."),
    ],
)
def test_predict_file_any_extension(
    tmp_path: Path, classifier: EmotionClassifier, filename: str, content: str, expected: int | str
) -> None:
    payload = {
        "png": SEEDS["png"],
        "jpeg": SEEDS["jpeg"],
        "webp": SEEDS["webp"],
        "text": b"my holiday notes\n" * 50,
        "gif": _encode(_face(), "GIF"),
        "empty": b"",
    }
    path = tmp_path / filename
    if content == "50mb":
        with path.open("wb") as f:
            f.write(SEEDS["jpeg"])
            f.truncate(50 * MB)  # sparse: refused from its size, never read
    else:
        path.write_bytes(payload[content])
    max_bytes = 10 * 1024 * 1024  # what the CLI allows (AWSOME_MAX_UPLOAD_MB MiB)
    if isinstance(expected, int):
        result = predict_file(path, classifier=classifier, max_faces=10, max_bytes=max_bytes)
        assert len(result["faces"]) == expected  # type: ignore[arg-type]
    else:
        with pytest.raises(InvalidImage) as error:
            predict_file(path, classifier=classifier, max_faces=10, max_bytes=max_bytes)
        assert expected in str(error.value)


def test_predict_file_refuses_a_directory_and_a_device(tmp_path: Path, classifier: EmotionClassifier) -> None:
    with pytest.raises(InvalidImage, match="Cannot read"):
        predict_file(tmp_path, classifier=classifier, max_faces=10, max_bytes=MAX_BYTES)
    if Path("/dev/zero").exists():  # no size to check: at most max_bytes + 1 bytes are read, then refused
        with pytest.raises(InvalidImage, match="the limit is"):
            predict_file(Path("/dev/zero"), classifier=classifier, max_faces=10, max_bytes=MAX_BYTES)


def test_predict_cli_prints_one_line_and_exits_1_for_a_bomb(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.jpg"  # a PNG bomb with a JPEG name
    bomb.write_bytes(_png_bomb(20000))
    done = subprocess.run(
        [str(Path(sys.executable).parent / "awsome"), "predict", str(bomb)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 1
    assert "20000×20000 pixels" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""
