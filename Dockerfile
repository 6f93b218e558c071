# syntax=docker/dockerfile:1
# Build stage: the same install steps as scripts/run (the pinned lock, then the project),
# into a virtual environment that the runtime stage copies whole.
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
COPY requirements.lock pyproject.toml README.md ./
RUN pip install -r requirements.lock
COPY bot ./bot
COPY adapters ./adapters
COPY storage ./storage
RUN pip install --no-deps .

# Runtime stage: no compiler, no build cache, a user without privileges.
FROM python:3.11-slim
RUN groupadd --system --gid 10001 modelbridge \
    && useradd --system --uid 10001 --gid modelbridge --home-dir /data --no-create-home modelbridge \
    && mkdir -p /data \
    && chown modelbridge:modelbridge /data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite+aiosqlite:////data/modelbridge.db \
    CONSOLE_OUTPUT_DIR=/data/out \
    HEALTH_PORT=8080
WORKDIR /data
VOLUME ["/data"]
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]
CMD ["modelbridge", "run"]
