# One image for every TripDesk daemon (Debian 12, the same packages as scripts/setup).
# Run one daemon per container by naming it as the command:
#   docker run ... tripdesk tripdesk-gateway | tripdesk-registry | tripdesk-auth | ...
# docker-compose.yml wires the whole platform.

# ---- web UI ----------------------------------------------------------------------
# gateway/web is a Vite app: when gateway/web/package.json exists, `npm ci` installs
# exactly what package-lock.json pins and `npm run build` (tsc, vite build) writes
# gateway/web/dist. Without a package.json, gateway/web/dist is taken as it is. Either
# way it must hold an index.html; it becomes /srv/web (TRIPDESK_WEB_ROOT).
FROM node:20 AS web
WORKDIR /web
COPY gateway/web/ ./
RUN if [ -f package.json ]; then npm ci --no-audit --no-fund && npm run build; fi \
 && test -f dist/index.html

# ---- build ---------------------------------------------------------------------
FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      libnng-dev libprotobuf-c-dev protobuf-c-compiler libmongoc-dev libbson-dev \
      libhiredis-dev libcivetweb-dev libcjson-dev libjwt-dev check libsodium-dev \
      libcurl4-openssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY proto/ proto/
COPY shared/ shared/
COPY services/ services/
# The gateway's C sources only: the web UI is built by the stage above.
COPY gateway/CMakeLists.txt gateway/*.h gateway/*.c gateway/
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DTRIPDESK_TESTS=OFF \
 && cmake --build build -j

# ---- runtime -------------------------------------------------------------------
FROM debian:12
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libnng1 libprotobuf-c1 libmongoc-1.0-0 libbson-1.0-0 libhiredis0.14 \
      libcivetweb1 libcjson1 libjwt0 libsodium23 libcurl4 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/tripdesk --create-home --shell /usr/sbin/nologin tripdesk \
 && install -d -o tripdesk -g tripdesk /var/lib/tripdesk/var/run
COPY --from=build /src/build/gateway/tripdesk-gateway /src/build/services/tripdesk-* /usr/local/bin/
COPY --from=web /web/dist/ /srv/web/
# The working directory holds var/run, the default TRIPDESK_IPC_DIR, for single-container
# use with the ipc transport; docker-compose.yml uses the tcp transport instead.
WORKDIR /var/lib/tripdesk
ENV TRIPDESK_WEB_ROOT=/srv/web
USER tripdesk
EXPOSE 8080
CMD ["tripdesk-gateway"]
