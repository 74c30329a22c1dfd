# One image for all four Newswire services; compose.yaml picks the console script per service
# (newswire-ingest, newswire-enrich, newswire-relate, newswire-gateway).
# No `# syntax=` line: BuildKit's built-in Dockerfile frontend handles the cache mounts, and
# naming a frontend image would make every build pull it.

# The official images by default; deploy/images/ builds stand-ins where they cannot be pulled.
ARG PYTHON_IMAGE=python:3.11-slim
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.8

FROM ${UV_IMAGE} AS uv

FROM ${PYTHON_IMAGE} AS builder
COPY --from=uv /uv /usr/local/bin/uv
# Use the image's Python (the runtime stage has the same one at the same path, so the venv's
# interpreter link stays valid); copy out of the cache mount; compile bytecode at build time.
ENV UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app

# Dependencies first: this layer is rebuilt only when the lock or a pyproject changes.
COPY pyproject.toml uv.lock ./
COPY libs/contracts/pyproject.toml libs/contracts/
COPY libs/platform/pyproject.toml libs/platform/
COPY services/ingest/pyproject.toml services/ingest/
COPY services/enrich/pyproject.toml services/enrich/
COPY services/relate/pyproject.toml services/relate/
COPY services/gateway/pyproject.toml services/gateway/
COPY tools/cli/pyproject.toml tools/cli/
COPY deploy/local/pyproject.toml deploy/local/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-install-workspace --all-packages

# Non-editable: the workspace packages are built into the venv, so the runtime needs no sources.
COPY libs libs
COPY services services
COPY tools tools
COPY deploy/local deploy/local
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --all-packages --no-editable

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 newswire \
    && useradd --system --uid 10001 --gid newswire --create-home --shell /usr/sbin/nologin newswire
# Owned by root, so the service user cannot modify its own code.
COPY --from=builder /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1
WORKDIR /app
USER newswire
# gateway API; ingest, enrich, relate health and metrics.
EXPOSE 8080 8081 8082 8083
# compose.yaml sets `command:` per service; without one, say so instead of starting a REPL.
CMD ["python", "-c", "raise SystemExit('run one of: newswire-ingest, newswire-enrich, newswire-relate, newswire-gateway')"]
