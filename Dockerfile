# syntax=docker/dockerfile:1
# Two stages: build a wheel-installed virtualenv, then copy it into a slim runtime that runs as a non-root user.
# Migrations are a separate command:  docker run --rm -e TIC_DATABASE_URL=... IMAGE python -m app migrate
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install --upgrade pip && pip install .

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    TIC_ENVIRONMENT=production TIC_HOST=0.0.0.0 TIC_PORT=8000
RUN groupadd --system tic && useradd --system --gid tic --home-dir /srv tic
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv
COPY alembic.ini ./
COPY alembic ./alembic
COPY app ./app
USER tic
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
# Production needs TIC_DATABASE_URL, TIC_AUTH_SECRET (or TIC_AUTH_JWKS_URL) and TIC_WEBHOOK_SECRET_KEYS; the embedded
# server is for development.
CMD ["python", "-m", "app", "serve", "--workers", "2"]
