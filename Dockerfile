# syntax=docker/dockerfile:1
# Production image: no embedded PostgreSQL; KMOP_DATABASE_URL is required.
# Migrates the database, then serves on port 8000 as an unprivileged user, in KMOP_WORKERS
# processes (2 by default: about one per core the container may use).

FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
# Install the dependencies through the project, then drop the project itself: the runtime
# image runs the source from /srv, next to its migrations.
RUN pip install . && pip uninstall --yes kmop-registry

FROM python:3.12-slim AS runtime
RUN groupadd --system --gid 10001 kmop \
 && useradd --system --uid 10001 --gid kmop --home-dir /srv --no-create-home kmop
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv
COPY --chown=root:root app ./app
COPY --chown=root:root migrations ./migrations
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/srv \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    KMOP_ENVIRONMENT=production \
    KMOP_HOST=0.0.0.0 \
    KMOP_PORT=8000 \
    KMOP_WORKERS=2
USER kmop
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)" || exit 1
CMD ["sh", "-c", ": \"${KMOP_DATABASE_URL:?KMOP_DATABASE_URL is required}\" && python -m app migrate && exec python -m app serve --no-migrate --workers \"${KMOP_WORKERS}\""]
