# Fixture: the shape of deploy/docker/infra.Dockerfile (tools/tiltfile-check tests). The in-cluster infrastructure,
# a target per component; the context is the repository.
ARG DEBIAN_IMAGE=debian:bookworm-slim

FROM ${DEBIAN_IMAGE} AS infra-base

FROM infra-base AS redis
RUN apt-get update && apt-get install -y --no-install-recommends redis-server
USER 999:999
ENTRYPOINT ["redis-server"]

FROM infra-base AS postgres
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-15
COPY deploy/docker/postgres/bootstrap.sql /etc/flash-sale/bootstrap.sql
COPY deploy/docker/postgres/entrypoint.sh /usr/local/bin/postgres-entrypoint
USER 999:999
ENTRYPOINT ["postgres-entrypoint"]

FROM ${DEBIAN_IMAGE} AS kafka-jars
RUN apt-get update && apt-get install -y --no-install-recommends maven openjdk-17-jre-headless
COPY infra/kafka/pom.xml /build/pom.xml
COPY deploy/docker/kafka/java-truststore.sh /usr/local/bin/java-truststore
RUN mvn -q -B -f /build/pom.xml dependency:copy-dependencies -DoutputDirectory=/opt/kafka/libs

FROM infra-base AS kafka
RUN apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless
COPY --from=kafka-jars /opt/kafka/libs /opt/kafka/libs
COPY deploy/docker/kafka/log4j2.properties /opt/kafka/config/log4j2.properties
COPY deploy/docker/kafka/entrypoint.sh /usr/local/bin/kafka-entrypoint
USER 1000:1000
ENTRYPOINT ["kafka-entrypoint"]
