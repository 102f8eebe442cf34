"""Faces and emotions: detection, classification, analysis, smoothing and overlays.

Conventions across the package: images are BGR ``uint8`` H×W×3 (OpenCV order); boxes are
:class:`Box` ``(x, y, w, h)`` in pixels, top-left corner first; probabilities follow
:data:`awsome_core.emotions.EMOTIONS` order. Models are loaded on first use, never at import.
"""

from awsome_core.vision.analyze import FaceEmotion, analyze_image, crop_face
from awsome_core.vision.classifier import EmotionClassifier, get_classifier
from awsome_core.vision.detector import Box, FaceDetector, detect_faces
from awsome_core.vision.image_io import decode_image
from awsome_core.vision.overlay import draw_faces, draw_probability_bars
from awsome_core.vision.smoothing import LatestResult, ProbabilitySmoother
from awsome_core.vision.threads import use_one_opencv_thread

__all__ = [
    "Box",
    "EmotionClassifier",
    "FaceDetector",
    "FaceEmotion",
    "LatestResult",
    "ProbabilitySmoother",
    "analyze_image",
    "crop_face",
    "decode_image",
    "detect_faces",
    "draw_faces",
    "draw_probability_bars",
    "get_classifier",
    "use_one_opencv_thread",
]
