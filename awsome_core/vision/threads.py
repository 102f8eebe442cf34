"""How the vision code uses threads when it serves: one thread per request, none of OpenCV's own.

A server runs many small images at once (photo readings, live frames), each on the thread that asked for it;
the models already run on one thread each (``num_threads=1``). OpenCV, by default, splits a colour
conversion or a resize over a pool of its own threads, one per core. In a server that is one more thread per
process taking the GIL-free part of a frame's work away from the thread that then waits for it, and its
spinning workers' CPU on top; with the pool off, the work is done where it is accounted for (the load
scripts' ``analysis_core_ms`` counts the calling thread's CPU). docs/performance.md has the measurements.
Training keeps OpenCV's default; it never calls this.
"""

from __future__ import annotations

import logging

import cv2

logger = logging.getLogger(__name__)


def use_one_opencv_thread() -> None:
    """Run OpenCV's functions on the calling thread only (``cv2.setNumThreads(1)``), process-wide. Idempotent."""
    if cv2.getNumThreads() != 1:
        cv2.setNumThreads(1)
        logger.info("OpenCV: one thread (the caller's) per call")
