"""The ``awsome`` command: a thin dispatcher over the library.

Each subcommand lives beside the code it drives and exposes ``main(argv) -> int``; this module
imports it only when asked, so ``awsome db upgrade`` never pays for TensorFlow's import.
An :class:`~awsome_core.errors.AwsomeError` becomes one line on stderr and exit code 1.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys

from awsome_core.errors import AwsomeError

logger = logging.getLogger("awsome")

COMMANDS: dict[str, tuple[str, str]] = {
    "train": ("awsome_core.training.train", "train the emotion CNN (resumable)"),
    "evaluate": ("awsome_core.training.evaluate", "accuracy, per-class recall/F1, confusion matrix on an .npz"),
    "export": ("awsome_core.training.export", "export a trained checkpoint to the serving TFLite model"),
    "ensemble": ("awsome_core.training.ensemble", "score an ensemble of models; write soft targets to distil it"),
    "predict": ("awsome_core.vision.predict", "print faces, boxes and probabilities of an image as JSON"),
    "catalog": ("awsome_core.music.cli", "import or download the music catalog"),
    "recommend": ("awsome_core.music.cli:recommend_main", "recommend tracks for an emotion and a strategy"),
    "db": ("awsome_core.storage.cli", "database: wait until it answers, migrate (db wait/upgrade/current)"),
    "bench": ("awsome_core.bench", "benchmarks that print their figures"),
    "api": ("api.server", "serve the HTTP API (REST + WebSocket) with uvicorn"),
    "token": ("awsome_core.services.cli", "API personal access tokens: token create --user NAME --name LABEL"),
}


def _usage() -> str:
    lines = ["usage: awsome COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<10} {doc}" for name, (_, doc) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=os.environ.get("AWSOME_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not argv or argv[0] in ("-h", "--help", "help"):
        sys.stdout.write(_usage() + "\n")
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        sys.stderr.write(f"awsome: unknown command {name!r}\n{_usage()}\n")
        return 2
    module_name, _, function = COMMANDS[name][0].partition(":")
    module = importlib.import_module(module_name)
    try:
        return int(getattr(module, function or "main")(rest) or 0)
    except AwsomeError as e:
        sys.stderr.write(f"awsome {name}: {e}\n")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
