# Multi-stage build: compile with the Rust toolchain, run on a slim Debian as a non-root user.
# TLS is rustls (no OpenSSL); the image needs only CA certificates at run time.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin paperbell

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin paperbell \
    && mkdir -p /app/config /data /backups \
    && chown paperbell /data /backups
COPY --from=build /src/target/release/paperbell /usr/local/bin/paperbell
COPY config/paperbell.toml /app/config/paperbell.toml
WORKDIR /app
USER paperbell
ENV PAPERBELL_DATA=/data
ENV PAPERBELL_BACKUP_DIR=/backups
# The archive, /healthz and /metrics, reachable from outside the container.
ENV PAPERBELL_HTTP_LISTEN=0.0.0.0:8080
EXPOSE 8080
VOLUME ["/data", "/backups"]
# Secrets come from the environment at run time, e.g.
#   docker run -e PAPERBELL_TELEGRAM_TOKEN=... -v paperbell-data:/data paperbell
ENTRYPOINT ["paperbell"]
CMD ["run"]
