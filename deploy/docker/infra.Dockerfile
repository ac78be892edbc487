# Infrastructure images for the optional in-cluster profile (kind, minikube, or any cluster without an external
# Redis, PostgreSQL and Kafka). Development only: no persistence for Redis, trust authentication for PostgreSQL by
# default, a single Kafka node.
#
#   docker build -f deploy/docker/infra.Dockerfile --target kafka -t flash-sale/kafka:dev .
#
# Targets, all from Debian packages (plus Kafka's jars from Maven Central), each non-root with a numeric user (so
# Kubernetes' runAsNonRoot can verify it) and fine with a read-only root file system plus one writable volume:
#   redis     Debian's redis-server 7, uid 999, volume /data; requires REDIS_PASSWORD when that is set
#             (deploy/docker/redis/entrypoint.sh)
#   postgres  Debian's postgresql-15, uid 999 (postgres), volume /var/lib/postgresql/data; creates the database
#             flashsale and the services' roles and schemas, and sets their passwords, at start (deploy/docker/postgres/)
#   kafka     Apache Kafka 4.1.2 (infra/kafka/pom.xml) in KRaft mode, one node, on Debian's Java 17, uid 1000,
#             volume /var/lib/kafka; configured from the environment (deploy/docker/kafka/entrypoint.sh)
# Build argument DEBIAN_IMAGE (default debian:bookworm-slim). Optional BuildKit secret `ca`: a PEM bundle Maven
# trusts (for a TLS-inspecting proxy), e.g. `--secret id=ca,src=/etc/ssl/certs/ca-certificates.crt`.

ARG DEBIAN_IMAGE=debian:bookworm-slim

FROM ${DEBIAN_IMAGE} AS infra-base
LABEL org.opencontainers.image.source="flash-sale-mesh" \
      org.opencontainers.image.licenses="Apache-2.0"

FROM infra-base AS redis
RUN groupadd --system --gid 999 redis \
  && useradd --system --uid 999 --gid redis --home-dir /data --shell /usr/sbin/nologin redis \
  && apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server \
  && rm -rf /var/lib/apt/lists/* \
  && mkdir /data && chown redis:redis /data \
  && redis-server --version
COPY deploy/docker/redis/entrypoint.sh /usr/local/bin/redis-entrypoint
VOLUME /data
WORKDIR /data
USER 999:999
EXPOSE 6379
STOPSIGNAL SIGTERM
ENTRYPOINT ["redis-entrypoint"]
LABEL org.opencontainers.image.title="flash-sale redis (in-cluster profile)"
# No persistence (a cache and a stock mirror the services rebuild from PostgreSQL); override to add some.
# Lazy freeing: a finished sale's big hashes are freed on a background thread, not while every command waits.
CMD ["--bind", "0.0.0.0", "--port", "6379", "--protected-mode", "no", "--dir", "/data", "--save", "", "--appendonly", "no", "--maxclients", "10000", "--lazyfree-lazy-expire", "yes", "--lazyfree-lazy-server-del", "yes", "--lazyfree-lazy-user-del", "yes"]

FROM infra-base AS postgres
# The Debian packages must not create a `main` cluster: the entrypoint makes one in the volume.
RUN groupadd --system --gid 999 postgres \
  && useradd --system --uid 999 --gid postgres --home-dir /var/lib/postgresql --shell /bin/sh postgres \
  && apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-common \
  && sed -ri 's/^#?\s*create_main_cluster\s*=.*/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \
  && rm -rf /var/lib/apt/lists/* \
  && mkdir -p /var/lib/postgresql/data && chown -R postgres:postgres /var/lib/postgresql \
  && /usr/lib/postgresql/15/bin/postgres --version
COPY deploy/docker/postgres/bootstrap.sql /etc/flash-sale/bootstrap.sql
COPY deploy/docker/postgres/passwords.sql /etc/flash-sale/passwords.sql
COPY deploy/docker/postgres/entrypoint.sh /usr/local/bin/postgres-entrypoint
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data/pgdata \
    TMPDIR=/tmp
VOLUME /var/lib/postgresql/data
USER 999:999
EXPOSE 5432
# SIGINT: PostgreSQL's fast shutdown (SIGTERM would wait for every client to leave).
STOPSIGNAL SIGINT
ENTRYPOINT ["postgres-entrypoint"]
LABEL org.opencontainers.image.title="flash-sale postgres (in-cluster profile)"
CMD ["-c", "max_connections=300"]

# Kafka's jars from Maven Central, as scripts/infra.sh fetches them (same pom, same command).
FROM ${DEBIAN_IMAGE} AS kafka-jars
# (man1 must exist: the JRE's postinst links a man page there, and -slim images have no man folders.)
RUN mkdir -p /usr/share/man/man1 \
  && apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends maven openjdk-17-jre-headless \
  && rm -rf /var/lib/apt/lists/*
COPY infra/kafka/pom.xml /build/pom.xml
COPY deploy/docker/kafka/java-truststore.sh /usr/local/bin/java-truststore
RUN --mount=type=secret,id=ca \
    --mount=type=cache,id=flash-sale-m2,target=/root/.m2 \
    if [ -s /run/secrets/ca ]; then \
      java-truststore /run/secrets/ca /tmp/truststore \
      && export MAVEN_OPTS="-Djavax.net.ssl.trustStore=/tmp/truststore -Djavax.net.ssl.trustStorePassword=changeit"; \
    fi \
  && mvn -q -B -f /build/pom.xml dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=/opt/kafka/libs \
  && ls /opt/kafka/libs/kafka_2.13-4.1.2.jar \
  && rm -f /tmp/truststore

FROM infra-base AS kafka
RUN groupadd --system --gid 1000 kafka \
  && useradd --system --uid 1000 --gid kafka --home-dir /var/lib/kafka --shell /usr/sbin/nologin kafka \
  && mkdir -p /usr/share/man/man1 \
  && apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless \
  && rm -rf /var/lib/apt/lists/* \
  && mkdir -p /var/lib/kafka && chown kafka:kafka /var/lib/kafka
COPY --from=kafka-jars /opt/kafka/libs /opt/kafka/libs
COPY deploy/docker/kafka/log4j2.properties /opt/kafka/config/log4j2.properties
COPY deploy/docker/kafka/entrypoint.sh /usr/local/bin/kafka-entrypoint
ENV TMPDIR=/tmp
VOLUME /var/lib/kafka
USER 1000:1000
EXPOSE 9092
STOPSIGNAL SIGTERM
ENTRYPOINT ["kafka-entrypoint"]
LABEL org.opencontainers.image.title="flash-sale kafka (in-cluster profile)"
