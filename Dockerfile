# sharekeeper container image: Debian 12 packages only, as on the build machines.
#   docker build -t sharekeeper:0.1.0 .
#   docker run --rm sharekeeper:0.1.0 version
# deploy/kubernetes/sharekeeper.yaml runs it with `run -c /etc/sharekeeper --listen 0.0.0.0:9464`.
FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libboost1.81-dev libssl-dev libyaml-cpp-dev libyaml-dev nlohmann-json3-dev prometheus-cpp-dev zlib1g-dev \
      libspdlog-dev libfmt-dev libcli11-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DSHAREKEEPER_BUILD_TESTS=OFF -DSHAREKEEPER_BUILD_BENCH=OFF \
 && cmake --build /build --target sharekeeper \
 && strip /build/daemon/sharekeeper

FROM debian:12-slim
# The shared libraries `sharekeeper` links (tests/unit/daemon/deploy_test.cpp checks this list
# against `ldd` of the built binary), and the CA bundle for TLS to Alibaba Cloud endpoints.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libstdc++6 libssl3 libyaml-cpp0.7 libyaml-0-2 libprometheus-cpp-core1.0 libspdlog1.10 libfmt9 zlib1g \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/daemon/sharekeeper /usr/local/bin/sharekeeper
# Non-root, no shell needed at run time; the config and the admin token are mounted read-only.
USER 65532:65532
EXPOSE 9464
ENTRYPOINT ["/usr/local/bin/sharekeeper"]
CMD ["run", "-c", "/etc/sharekeeper", "--listen", "0.0.0.0:9464"]
