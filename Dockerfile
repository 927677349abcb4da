# One image for every component: kdiag agent | bridge | status-writer | log-source (docs/install.md).
# Build: make image  (docker build -t kdiag:$(VERSION) .)

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -B -DskipTests package -pl all-in-one -am \
 && mkdir -p /opt/kdiag/lib \
 && cp all-in-one/target/kdiag.jar all-in-one/target/lib/*.jar /opt/kdiag/lib/

# The JDK, not a JRE: the Java profiler runs jcmd.
FROM eclipse-temurin:17-jdk
# Only what the built-ins execute: kill (procps); nsenter, setsid, ionice (util-linux); du, nice (coreutils).
RUN apt-get update \
 && apt-get install -y --no-install-recommends procps util-linux coreutils \
 && rm -rf /var/lib/apt/lists/* \
 && rm -rf /opt/java/openjdk/jmods /opt/java/openjdk/lib/src.zip /opt/java/openjdk/man \
 && groupadd --gid 10001 kdiag \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin kdiag
COPY --from=build /opt/kdiag/lib /opt/kdiag/lib
# Non-root by default (bridge, status writer); the containers of the agent pod run it as root.
USER 10001:10001
EXPOSE 8089 8090 8091 10357
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-cp", "/opt/kdiag/lib/*", "io.kdiag.allinone.Kdiag"]
