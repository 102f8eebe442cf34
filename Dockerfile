# Production image: runtime dependencies only (no TensorFlow, no test tools), the model baked in.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    AWSOME_ENV=production AWSOME_DATA_DIR=/data
WORKDIR /app

COPY requirements-app.txt ./
RUN pip install --no-cache-dir -r requirements-app.txt

COPY pyproject.toml README.md app.py ./
COPY awsome_core ./awsome_core
COPY ui ./ui
COPY pages ./pages
COPY models ./models
COPY .streamlit/config.toml ./.streamlit/config.toml
RUN pip install --no-cache-dir --no-deps . \
    && useradd --create-home --uid 10001 awsome \
    && mkdir -p /data && chown awsome /data

USER awsome
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status != 200)"

# Migrations run once per start (safe with several replicas: MySQL advisory lock), then the app.
CMD ["sh", "-c", "awsome db upgrade && exec streamlit run app.py --server.port 8501 --server.address 0.0.0.0"]
