# syncd as a long-running container.
#   docker build -t syncd .
#   docker run -d --name syncd -v syncd-data:/data -v $PWD/config.toml:/etc/syncd/config.toml:ro \
#     -e AFAS_TOKEN -e HUBSPOT_TOKEN syncd
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VIRTUAL_ENV=/opt/syncd SYNCD_DATA_DIR=/data
RUN python -m venv $VIRTUAL_ENV
ENV PATH="$VIRTUAL_ENV/bin:$PATH"

COPY . /src
RUN sh /src/.ci/image-install /src $VIRTUAL_ENV/bin/python \
    && mkdir -p /etc/syncd && cp -r /src/mappings /etc/syncd/mappings \
    && cp /src/config.toml /etc/syncd/config.toml && rm -rf /src

# A user of its own, named by number so that Kubernetes' runAsNonRoot can verify it;
# /data holds the state store and the status log, owner-only.
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin syncd \
    && mkdir -p /data && chown syncd /data && chmod 700 /data
USER 10001
VOLUME ["/data"]
WORKDIR /data

# syncd stops cleanly on SIGTERM: it lets the write in flight finish and commits.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=60s --timeout=10s --start-period=120s \
    CMD ["syncd", "check", "--config", "/etc/syncd/config.toml"]

ENTRYPOINT ["syncd"]
# JSON lines for docker logs and log shippers, even under "docker run -t".
CMD ["run", "--config", "/etc/syncd/config.toml", "--log-format", "json"]
