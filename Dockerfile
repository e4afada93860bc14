# Hubbub: the React UI built with Node, served with the FastAPI backend by gunicorn + uvicorn.
#   docker build -t hubbub .
#   docker run -p 8000:8000 -v hubbub-data:/data hubbub
# Base images are arguments so machines without a registry can build from local ones
# (docker/local-base-image).
ARG NODE_IMAGE=node:22-bookworm-slim
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${NODE_IMAGE} AS ui
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY frontend/ ./
# Vite writes into the Python package (../backend/src/hubbub/static).
RUN mkdir -p /src/backend/src/hubbub && npm run build

FROM ${PYTHON_IMAGE} AS app
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
WORKDIR /app
RUN python -m venv /opt/venv
COPY backend/requirements.lock backend/requirements.lock
RUN pip install --no-cache-dir -r backend/requirements.lock
COPY backend/pyproject.toml backend/
COPY backend/src backend/src
COPY --from=ui /src/backend/src/hubbub/static backend/src/hubbub/static
RUN pip install --no-cache-dir --no-deps ./backend && rm -rf backend
COPY docker/gunicorn.conf.py docker/entrypoint.sh /app/docker/
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home hubbub \
    && mkdir -p /data \
    && chown hubbub:hubbub /data
USER 10001:10001
ENV HUBBUB_DATA_DIR=/data \
    PROMETHEUS_MULTIPROC_DIR=/tmp/hubbub-metrics \
    PORT=8000
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=2)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/docker/entrypoint.sh"]
