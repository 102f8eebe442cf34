# AWSome production image: Python 3.11 slim, runtime dependencies only (requirements-app.txt: no TensorFlow,
# no test tools), the serving models baked in, a non-root user. The entrypoint waits for the database, runs
# the migrations once (a MySQL named lock serialises replicas that start together), then starts Streamlit.
#
#   docker build -t awsome .
#   docker run -p 8501:8501 -e AWSOME_COOKIE_KEY=... -e AWSOME_DATABASE_URL=mysql+pymysql://... awsome
#
# The whole stack (MySQL 8, two replicas, nginx, coturn): compose.yaml; the runbook: docs/deploy.md.

# ---- build: a virtual environment with the runtime dependencies and the awsome package
FROM python:3.11-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY requirements-app.txt ./
RUN pip install --no-cache-dir -r requirements-app.txt
# NOTE: an editable install, as in a checkout: awsome_core finds the models beside it in /app/models
# (awsome_core/vision/detector.py looks in <project root>/models, which a regular install would put
# under site-packages).
COPY pyproject.toml README.md ./
COPY awsome_core ./awsome_core
COPY api ./api
RUN pip install --no-cache-dir --no-deps -e . \
    && pip uninstall --yes pip setuptools wheel

# ---- runtime
FROM python:3.11-slim-bookworm

LABEL org.opencontainers.image.title="AWSome" \
      org.opencontainers.image.description="Mood-aware music: reads emotions from your face and plays music for them"

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    AWSOME_ENV=production \
    AWSOME_DATA_DIR=/data \
    STREAMLIT_SERVER_PORT=8501 \
    STREAMLIT_SERVER_ADDRESS=0.0.0.0 \
    STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false

# A system user without a login shell; the code stays root-owned (read-only to the app), /data is its own.
RUN useradd --system --uid 10001 --user-group --create-home --shell /usr/sbin/nologin awsome \
    && mkdir -p /data && chown awsome:awsome /data

COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --from=build /app/pyproject.toml /app/README.md ./
COPY --from=build /app/awsome_core ./awsome_core
COPY --from=build /app/api ./api
COPY app.py ./
COPY .streamlit/config.toml ./.streamlit/config.toml
COPY ui ./ui
COPY app_pages ./app_pages
COPY models/emotion.tflite models/emotion.json models/face_detection_short_range.tflite \
     models/face_detection_full_range_sparse.tflite models/README.md models/NOTICE-mediapipe.md ./models/
COPY deploy/entrypoint.sh ./deploy/entrypoint.sh

USER 10001:10001
VOLUME ["/data"]
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('STREAMLIT_SERVER_PORT', '8501'); sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{port}/_stcore/health', timeout=4).status != 200)"]

ENTRYPOINT ["/app/deploy/entrypoint.sh"]
