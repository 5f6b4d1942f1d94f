# syntax=docker/dockerfile:1
# Production image: no embedded PostgreSQL; KMOP_DATABASE_URL is required (and to serve, an
# https:// KMOP_PUBLIC_BASE_URL and a way to verify tokens: README "Operating it").
# Serves on port 8000 as an unprivileged user, in KMOP_WORKERS processes (2 by default: about one
# per core the container may use). It does not migrate: run its `migrate` command once per
# release, before the new version serves (a job or an init container, as the database's owner):
#   docker run --rm -e KMOP_DATABASE_URL=… kmop-registry migrate
# Build with the commit and the repository it is built from (the version is pyproject.toml's,
# which tests/test_lock.py checks):
#   docker build --build-arg REVISION="$(git rev-parse HEAD)" --build-arg SOURCE=<repository URL> \
#     -t kmop-registry .

FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# Exactly the releases requirements.lock pins, each file checked against its hashes, nothing
# else (--no-deps: the lock is complete). The project itself is not installed: the runtime image
# runs the source from /srv, next to its migrations.
COPY requirements.lock /tmp/requirements.lock
RUN pip install --require-hashes --no-deps -r /tmp/requirements.lock

FROM python:3.12-slim AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=
LABEL org.opencontainers.image.title="kmop-registry" \
      org.opencontainers.image.description="System of record for the registration of kmo-portefeuille service providers" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="NOASSERTION"
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
# Ready once the schema is at the head migration (the `migrate` step has run) and the database,
# and the read replica when KMOP_READ_DATABASE_URL is set, answer.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)" || exit 1
ENTRYPOINT ["python", "-m", "app"]
CMD ["serve", "--no-migrate"]
