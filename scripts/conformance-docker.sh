#!/usr/bin/env bash
# Runs the conformance kit in containers, as conformance/compose.yaml
# describes it: PostgreSQL, the gateway image and the kit image, built from
# the repository's real Dockerfile.
#
#   scripts/conformance-docker.sh [--reports DIR | DIR] [-- KIT-RUN-FLAGS...]
#
# Made for a machine with no Docker engine and no container registry
# (Debian 12, root): it uses podman and its Docker-compatible API, with
# Debian's docker-compose. The first run sets up what it needs (packages,
# podman's configuration, locally made base images: debian:bookworm,
# golang:1.26-bookworm from the host's /usr/local/go,
# gcr.io/distroless/static-debian12:nonroot and postgres:15); later runs
# skip every step already done. Then it builds both images, runs the kit,
# keeps its reports (junit.xml, report.html, compose.log) in DIR (default
# ./conformance-reports) and tears the containers, volumes and API service
# down, even on failure. Flags after -- go to the kit's run (--suite
# security, --tags fhir-r4, --var NAME=VALUE), through CAREBRIDGE_KIT_ARGS.
#
# Exit status: the kit's (0 when every test passed, 1 when any failed, 2
# when it could not run), or non-zero when a step before it failed.
#
# Environment:
#   CAREBRIDGE_CONTAINERS_STATE  podman's configuration, storage and the base
#                                images' sources (default /var/tmp/carebridge-containers)
#   CAREBRIDGE_COMPOSE_PROJECT   the compose project name (default carebridge-conformance)
#   CAREBRIDGE_GATEWAY_IMAGE     default carebridge:latest
#   CAREBRIDGE_CONFORMANCE_IMAGE default carebridge-conformance:latest
#   CAREBRIDGE_KIT_ARGS          more flags for the kit's run
set -euo pipefail

usage() { sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; }

reports=./conformance-reports
while [ $# -gt 0 ]; do
  case $1 in
    --reports) [ $# -ge 2 ] || { usage >&2; exit 2; }; reports=$2; shift 2 ;;
    --reports=*) reports=${1#--reports=}; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; CAREBRIDGE_KIT_ARGS="${CAREBRIDGE_KIT_ARGS:-}$(printf ' %q' "$@")"; export CAREBRIDGE_KIT_ARGS; break ;;
    -*) echo "unknown flag $1" >&2; usage >&2; exit 2 ;;
    *) reports=$1; shift ;;
  esac
done

if [ "$(id -u)" != 0 ]; then
  echo "this script runs rootful podman and installs packages: run it as root (sudo $0)" >&2
  exit 2
fi

mkdir -p "$reports"
reports=$(cd "$reports" && pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

export PATH="/usr/local/go/bin:$PATH"
STATE=${CAREBRIDGE_CONTAINERS_STATE:-/var/tmp/carebridge-containers}
PROJECT=${CAREBRIDGE_COMPOSE_PROJECT:-carebridge-conformance}
export CAREBRIDGE_GATEWAY_IMAGE=${CAREBRIDGE_GATEWAY_IMAGE:-carebridge:latest}
export CAREBRIDGE_CONFORMANCE_IMAGE=${CAREBRIDGE_CONFORMANCE_IMAGE:-carebridge-conformance:latest}
COMPOSE_FILE=$repo/conformance/compose.yaml
mkdir -p "$STATE"

# One run at a time per state directory: runs share the images and the
# compose project.
exec 9>"$STATE/lock"
if ! flock -n 9; then
  echo "--- waiting for another run using $STATE"
  flock 9
fi

# --- timing: step NAME starts a phase; the phases' times are printed at exit.
timings=()
phase=""
phase_started=0
now() { date +%s.%N; }
end_phase() {
  if [ -n "$phase" ]; then
    timings+=("$(awk -v a="$phase_started" -v b="$(now)" -v n="$phase" 'BEGIN { printf "%7.1fs  %s", b - a, n }')")
    phase=""
  fi
}
step() { end_phase; phase=$1; phase_started=$(now); echo "--- $1"; }
run_started=$(now)

# --- tear-down, on every exit.
api_pid=""
healthchecks_pid=""
child=""
# in_background CMD...: runs CMD and waits for it, so that a signal to this
# script ends the wait at once and the tear-down runs (and stops CMD).
in_background() { "$@" & child=$!; wait "$child"; local rc=$?; child=""; return "$rc"; }
compose() { docker-compose -p "$PROJECT" -f "$COMPOSE_FILE" "$@"; }
teardown() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  end_phase
  if [ -n "$child" ]; then kill "$child" 2>/dev/null; wait "$child" 2>/dev/null; fi
  if [ -n "$healthchecks_pid" ]; then kill "$healthchecks_pid" 2>/dev/null; wait "$healthchecks_pid" 2>/dev/null; fi
  if [ -n "$api_pid" ]; then
    step "tearing down"
    # The containers first, by podman: docker-compose down can fail on
    # containers that share a network namespace (dependants go first,
    # --depend), and through podman's API it leaves the anonymous volumes
    # (PostgreSQL's data) behind (-v removes them). Then compose removes the
    # network and the named volume; what is left goes by label.
    local left
    left=$(podman ps -aq --filter "label=com.docker.compose.project=$PROJECT")
    [ -z "$left" ] || podman rm -f -v --depend $left >/dev/null 2>&1
    compose down -v --remove-orphans >/dev/null 2>&1
    left=$(podman volume ls -q --filter "label=com.docker.compose.project=$PROJECT")
    [ -z "$left" ] || podman volume rm -f $left >/dev/null 2>&1
    podman network rm -f "${PROJECT}_default" >/dev/null 2>&1
    kill "$api_pid" 2>/dev/null
    wait "$api_pid" 2>/dev/null
    rm -f "$STATE/podman.sock" "$STATE/podman-service.pid"
    end_phase
  fi
  echo "--- timings"
  printf '%s\n' "${timings[@]}"
  awk -v a="$run_started" -v b="$(now)" 'BEGIN { printf "%7.1fs  total\n", b - a }'
  echo "--- exit status $rc; reports in $reports"
  exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# === one-time set-up, each step skipped when done ===

step "packages (podman buildah runc docker-compose debootstrap curl)"
missing=()
for p in podman buildah runc docker-compose debootstrap curl; do
  command -v "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman buildah runc docker-compose debootstrap curl
fi

step "podman configuration in $STATE"
# crun cannot run here (cgroups in hybrid mode) and the default ulimits
# cannot be raised without CAP_SYS_RESOURCE: runc and lower limits. Storage
# of our own, so that nothing else's images or containers are touched.
cat >"$STATE/containers.conf.new" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
runtime = "runc"
EOF
cat >"$STATE/storage.conf.new" <<EOF
[storage]
driver = "overlay"
runroot = "$STATE/run"
graphroot = "$STATE/storage"
EOF
for f in containers.conf storage.conf; do
  if cmp -s "$STATE/$f.new" "$STATE/$f"; then rm "$STATE/$f.new"; else mv "$STATE/$f.new" "$STATE/$f"; fi
done
export CONTAINERS_CONF=$STATE/containers.conf CONTAINERS_STORAGE_CONF=$STATE/storage.conf

# image_exists NAME [LABEL VALUE]: the image is there (with that label value).
image_exists() {
  podman image exists "$1" || return 1
  [ $# -lt 3 ] || [ "$(podman image inspect --format "{{ index .Labels \"$2\" }}" "$1")" = "$3" ]
}

step "base image debian:bookworm"
if ! image_exists docker.io/library/debian:bookworm; then
  rm -rf "$STATE/rootfs"
  debootstrap --variant=minbase bookworm "$STATE/rootfs" http://deb.debian.org/debian >"$STATE/debootstrap.log" 2>&1 \
    || { tail -20 "$STATE/debootstrap.log"; exit 1; }
  rm -rf "$STATE/rootfs/var/cache/apt/archives/"*.deb "$STATE/rootfs/var/lib/apt/lists/"*
  tar --numeric-owner -C "$STATE/rootfs" -c . \
    | podman import --quiet --change 'CMD ["/bin/bash"]' - docker.io/library/debian:bookworm >/dev/null
  rm -rf "$STATE/rootfs"
fi

step "base image golang:1.26-bookworm (the host's $(go version | cut -d' ' -f3))"
go_version=$(go version | cut -d' ' -f3)
case $go_version in
  go1.26*) ;;
  *) echo "the Dockerfile builds with Go 1.26; /usr/local/go is $go_version" >&2; exit 1 ;;
esac
if ! image_exists docker.io/library/golang:1.26-bookworm org.carebridge.go-version "$go_version"; then
  ctr=$(buildah from docker.io/library/debian:bookworm)
  buildah copy "$ctr" "$(go env GOROOT)" /usr/local/go >/dev/null
  buildah copy "$ctr" /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt >/dev/null
  buildah config \
    --env PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env GOPATH=/go --env GOLANG_VERSION="${go_version#go}" --env GOTOOLCHAIN=local \
    --workingdir /go --cmd bash --label org.carebridge.go-version="$go_version" "$ctr"
  buildah commit --quiet --rm --format docker "$ctr" docker.io/library/golang:1.26-bookworm >/dev/null
  podman tag docker.io/library/golang:1.26-bookworm docker.io/library/golang:1.26
fi

step "base image gcr.io/distroless/static-debian12:nonroot"
# What the distroless static image holds: CA certificates, tzdata, passwd
# and group with root, nobody and nonroot (65532), /tmp and the homes.
if ! image_exists gcr.io/distroless/static-debian12:nonroot; then
  d=$STATE/distroless
  rm -rf "$d"
  mkdir -p "$d/etc/ssl/certs" "$d/usr/share" "$d/tmp" "$d/root" "$d/home/nonroot"
  cp /etc/ssl/certs/ca-certificates.crt "$d/etc/ssl/certs/"
  cp -a /usr/share/zoneinfo "$d/usr/share/"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$d/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'tty:x:5:' 'staff:x:50:' 'nonroot:x:65532:' >"$d/etc/group"
  printf '%s\n' 'PRETTY_NAME="Distroless"' 'NAME="Debian GNU/Linux"' 'ID="debian"' 'VERSION_ID="12"' 'HOME_URL="https://github.com/GoogleContainerTools/distroless"' >"$d/etc/os-release"
  printf '%s\n' 'hosts: files dns' >"$d/etc/nsswitch.conf"
  chmod 1777 "$d/tmp"; chmod 700 "$d/root" "$d/home/nonroot"; chown 65532:65532 "$d/home/nonroot"
  tar --numeric-owner -C "$d" -c . | podman import --quiet \
    --change 'USER 65532' --change 'WORKDIR /home/nonroot' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    - gcr.io/distroless/static-debian12:nonroot >/dev/null
  rm -rf "$d"
fi

step "base image postgres:15"
# The official image's interface: POSTGRES_USER, POSTGRES_PASSWORD and
# POSTGRES_DB on first start, data in /var/lib/postgresql/data, listening on
# every address, password logins from the container network.
if ! image_exists docker.io/library/postgres:15; then
  d=$STATE/postgres-context
  rm -rf "$d"
  mkdir -p "$d"
  cat >"$d/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
if [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi
if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}"
  if [ -z "$POSTGRES_PASSWORD" ]; then echo "POSTGRES_PASSWORD is not set" >&2; exit 1; fi
  printf '%s\n' "$POSTGRES_PASSWORD" >/tmp/pwfile
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile=/tmp/pwfile -A scram-sha-256 --auth-local=trust >/dev/null
  rm -f /tmp/pwfile
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  if [ "$POSTGRES_DB" != postgres ]; then
    pg_ctl -D "$PGDATA" -w -o "-c listen_addresses=''" start >/dev/null
    psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d postgres -c "CREATE DATABASE \"$POSTGRES_DB\"" >/dev/null
    pg_ctl -D "$PGDATA" -w -m fast stop >/dev/null
  fi
  echo "PostgreSQL init process complete; ready for start up."
fi
if [ "$1" = postgres ]; then shift; exec postgres -c listen_addresses='*' "$@"; fi
exec "$@"
EOF
  chmod 755 "$d/docker-entrypoint.sh"
  cat >"$d/Containerfile" <<'EOF'
FROM docker.io/library/debian:bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql-common \
 && sed -ri 's/#(create_main_cluster) .*$/\1 = false/' /etc/postgresql-common/createcluster.conf \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/*
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PGDATA=/var/lib/postgresql/data
VOLUME /var/lib/postgresql/data
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
EOF
  podman build --format docker -t docker.io/library/postgres:15 "$d" >"$STATE/build-postgres.log" 2>&1 \
    || { tail -40 "$STATE/build-postgres.log"; exit 1; }
  rm -rf "$d"
fi

# === this run ===

step "building the gateway image ($CAREBRIDGE_GATEWAY_IMAGE)"
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
# Go's build cache is kept between runs (a volume of the build's RUN steps,
# not part of any image): a new commit recompiles only what changed.
mkdir -p "$STATE/go-build-cache"
build_args=(--format docker --build-arg VERSION="${CAREBRIDGE_VERSION:-dev}" --build-arg COMMIT="$commit"
  -v "$STATE/go-build-cache:/root/.cache/go-build")
in_background podman build "${build_args[@]}" --target gateway -t "$CAREBRIDGE_GATEWAY_IMAGE" . >"$STATE/build-gateway.log" 2>&1 \
  || { tail -40 "$STATE/build-gateway.log"; exit 1; }

step "building the kit image ($CAREBRIDGE_CONFORMANCE_IMAGE)"
in_background podman build "${build_args[@]}" --target conformance -t "$CAREBRIDGE_CONFORMANCE_IMAGE" . >"$STATE/build-conformance.log" 2>&1 \
  || { tail -40 "$STATE/build-conformance.log"; exit 1; }
# Each build leaves the previous images and build steps untagged; those
# older than three days go (newer ones may still be the build's cache).
podman image prune -f --filter until=72h >/dev/null
podman image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' \
  | grep -E "(^|/)(${CAREBRIDGE_GATEWAY_IMAGE%%:*}|${CAREBRIDGE_CONFORMANCE_IMAGE%%:*}):" || true

step "starting podman's Docker-compatible API"
sock=$STATE/podman.sock
if [ -s "$STATE/podman-service.pid" ]; then
  # Left by a run that was killed before its tear-down.
  old=$(cat "$STATE/podman-service.pid")
  if [ "$(ps -o comm= -p "$old" 2>/dev/null)" = podman ]; then kill "$old" 2>/dev/null || true; fi
fi
rm -f "$sock"
podman system service --time=0 "unix://$sock" >"$STATE/podman-service.log" 2>&1 &
api_pid=$!
echo "$api_pid" >"$STATE/podman-service.pid"
export DOCKER_HOST=unix://$sock
for _ in $(seq 100); do
  if curl -fsS --unix-socket "$sock" http://d/_ping >/dev/null 2>&1; then break; fi
  kill -0 "$api_pid" 2>/dev/null || { cat "$STATE/podman-service.log"; exit 1; }
  sleep 0.1
done

# Left by a run that was killed before its tear-down.
left=$(podman ps -aq --filter "label=com.docker.compose.project=$PROJECT")
[ -z "$left" ] || podman rm -f -v --depend $left >/dev/null 2>&1 || true
compose down -v --remove-orphans >/dev/null 2>&1 || true

# Podman runs HEALTHCHECKs from systemd timers; with no systemd (as in
# most containers and CI machines) nothing runs them, and compose would wait
# for "healthy" forever. Run them here, every second, while the kit runs.
if [ ! -d /run/systemd/system ]; then
  (
    while sleep 1; do
      for c in $(podman ps -q --filter "label=com.docker.compose.project=$PROJECT" --filter health=starting --filter health=unhealthy 2>/dev/null); do
        podman healthcheck run "$c" >/dev/null 2>&1 || true
      done
    done
  ) &
  healthchecks_pid=$!
fi

step "running the kit (docker-compose up)"
run_reports=$STATE/reports
rm -rf "$run_reports"
rm -f "$reports/junit.xml" "$reports/report.html" "$reports/compose.log" # a previous run's
mkdir -p "$run_reports"
chown 65532:65532 "$run_reports" # the kit image runs as nonroot
export CAREBRIDGE_REPORTS=$run_reports
set +e
# The conformance service is named: docker-compose 1.29 would otherwise stop
# the stack when init exits (see compose.yaml).
in_background compose up --no-color --exit-code-from conformance conformance
kit_rc=$?
set -e
compose logs --no-color --timestamps >"$run_reports/compose.log" 2>&1 || true
cp -r "$run_reports/." "$reports/"
if [ "$kit_rc" = 0 ] && [ ! -s "$run_reports/junit.xml" ]; then
  echo "the kit exited 0 but wrote no report" >&2
  kit_rc=2
fi
exit "$kit_rc"
