# The Groeipakket engine: `docker build -t groeipakket-engine .`, then e.g.
#   docker run --rm -e KAFKA_BOOTSTRAP=... -v gp-data:/data groeipakket-engine worker --data-dir /data --web-port 6066
# (docker-compose.yml runs two workers this way).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Dependencies first (from pyproject.toml alone), so that a source change does not reinstall them.
COPY pyproject.toml /tmp/src/pyproject.toml
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('/tmp/src/pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself (pip install .); .dockerignore keeps .venv, tests, data and VCS files out of the context.
COPY . /tmp/src
RUN pip install --no-deps /tmp/src \
    && rm -rf /tmp/src

# Non-root user; /data is the RocksDB directory of one worker (a named volume inherits this ownership).
RUN groupadd --system --gid 10001 groeipakket \
    && useradd --system --uid 10001 --gid groeipakket --home-dir /home/groeipakket --create-home \
        --shell /usr/sbin/nologin groeipakket \
    && mkdir -p /data \
    && chown groeipakket:groeipakket /data
USER groeipakket:groeipakket
WORKDIR /home/groeipakket
VOLUME ["/data"]

# Web server of the worker: /metrics (Prometheus); Faust's /table dump is disabled (agents/engine.py).
EXPOSE 6066
ENV GROEIPAKKET_DATA_DIR=/data
ENTRYPOINT ["groeipakket"]
CMD ["--help"]
