"""Benchmark of the HTTP API against the same work done in-process (issue #13's figures).

Prints, in one run:

1. in-process analysis of one 640×480 JPEG (decode + detect + classify, the served model, one thread): per second;
2. ``POST /v1/analyze`` of that JPEG by *clients* concurrent clients against ``awsome api --workers N`` on a
   throwaway SQLite database: requests per second, p50 / p95 latency, and the ratio HTTP / in-process;
3. the ``/v1/stream`` WebSocket with *streams* concurrent streams, each sending its next frame as soon as the
   previous one is answered: analysed frames per second per stream and in all.

The clients run on the same machine as the server (they cost CPU too): the ratio is a floor.

    .venv/bin/python scripts/bench_api.py [--clients 16] [--workers 2] [--streams 4] [--seconds 15] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from awsome_core import auth  # noqa: E402
from awsome_core.config import Settings  # noqa: E402
from awsome_core.services import tokens  # noqa: E402
from awsome_core.storage.db import make_engine, make_sessionmaker, upgrade_database  # noqa: E402
from awsome_core.vision import get_classifier  # noqa: E402
from awsome_core.vision.photo import analyze_photo  # noqa: E402
from tests.api.conftest import astronaut_frame, jpeg  # noqa: E402
from tests.e2e.conftest import free_port  # noqa: E402

logger = logging.getLogger("bench_api")


def in_process_rate(image: bytes, seconds: float) -> float:
    settings = Settings.load()
    classifier = get_classifier(str(settings.model_path), tta=None)
    for _ in range(5):  # warm up
        analyze_photo(image, classifier=classifier, max_bytes=10 * 2**20)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        analyze_photo(image, classifier=classifier, max_bytes=10 * 2**20)
        n += 1
    return n / (time.perf_counter() - start)


def start_server(tmp: Path, workers: int) -> tuple[subprocess.Popen[bytes], str, str]:
    url_db = f"sqlite:///{tmp / 'bench.db'}"
    upgrade_database(url_db)
    sessions = make_sessionmaker(make_engine(url_db))
    with sessions() as session:
        user = auth.register_user(
            session=session, username="bench", display_name="Bench", password="load-test-passphrase-1"
        )
    token = tokens.create_token(sessions=sessions, user_id=user.id, name="bench").token
    port = free_port()
    env = {**os.environ, "AWSOME_DATABASE_URL": url_db, "AWSOME_DATA_DIR": str(tmp), "AWSOME_LOG_LEVEL": "WARNING"}
    env["AWSOME_API_ANALYSES_PER_MINUTE"] = "1000000"
    cmd = [str(Path(sys.executable).parent / "awsome"), "api", "--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/v1/health", timeout=1).status_code == 200:
                return process, url, token
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("the API did not start")


async def http_load(url: str, token: str, image: bytes, clients: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60, limits=limits) as client:
        for _ in range(4):  # warm every worker
            await client.post("/v1/analyze", files={"image": ("f.jpg", image, "image/jpeg")})
        stop = time.perf_counter() + seconds

        async def one_client() -> None:
            nonlocal errors
            while time.perf_counter() < stop:
                started = time.perf_counter()
                r = await client.post("/v1/analyze", files={"image": ("f.jpg", image, "image/jpeg")})
                if r.status_code == 200 and r.json()["faces"]:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "requests_per_s": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
        "errors": errors,
    }


async def stream_load(url: str, token: str, image: bytes, streams: int, seconds: float) -> dict[str, float]:
    from websockets.asyncio.client import connect

    counts: list[int] = []

    async def one_stream() -> None:
        async with connect(url.replace("http", "ws") + "/v1/stream", max_size=None) as ws:
            await ws.send(json.dumps({"token": token}))
            json.loads(await ws.recv())
            n, stop = 0, time.perf_counter() + seconds
            while time.perf_counter() < stop:
                await ws.send(image)
                message = json.loads(await ws.recv())
                n += message["type"] == "frame" and bool(message["faces"])
            counts.append(n)

    await asyncio.gather(*(one_stream() for _ in range(streams)))
    per_stream = [c / seconds for c in counts]
    return {"fps_per_stream_min": min(per_stream), "fps_total": sum(per_stream)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    image = jpeg(astronaut_frame(), quality=90)
    local = in_process_rate(image, args.seconds)
    with tempfile.TemporaryDirectory() as tmp:
        process, url, token = start_server(Path(tmp), args.workers)
        try:
            http = asyncio.run(http_load(url, token, image, args.clients, args.seconds))
            ws = asyncio.run(stream_load(url, token, image, args.streams, args.seconds))
        finally:
            process.terminate()
            process.wait(timeout=20)
    figures = {
        "in_process_per_s": round(local, 1),
        "http_per_s": round(http["requests_per_s"], 1),
        "ratio": round(http["requests_per_s"] / local, 2),
        "http_p50_ms": round(http["p50_ms"], 1),
        "http_p95_ms": round(http["p95_ms"], 1),
        "http_errors": http["errors"],
        "clients": args.clients,
        "workers": args.workers,
        "stream_fps_total": round(ws["fps_total"], 1),
        "stream_fps_per_stream_min": round(ws["fps_per_stream_min"], 1),
        "streams": args.streams,
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    if args.json:
        print(json.dumps(figures))
    print(
        f"api: in-process {figures['in_process_per_s']}/s, HTTP {figures['http_per_s']}/s with {args.clients} clients "
        f"on {args.workers} workers (ratio {figures['ratio']}), p50 {figures['http_p50_ms']} ms, "
        f"p95 {figures['http_p95_ms']} ms, {figures['http_errors']} errors; stream {figures['stream_fps_total']} fps "
        f"over {args.streams} streams (slowest {figures['stream_fps_per_stream_min']} fps); "
        f"load {figures['load_average_1m']} on {figures['cpus']} CPUs"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
