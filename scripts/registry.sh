#!/usr/bin/env bash
# A real Confluent-REST-compatible schema registry that stores metadata and ruleSets, for
# kontract's integration tests: AxonOps Schema Registry, built from the Go module proxy at the tag
# pinned in scripts/versions.env, in-memory storage, on 127.0.0.1.
#
#   scripts/registry.sh start    build if needed, start, wait until ready
#   scripts/registry.sh stop     stop the registry started by this script (its data is in memory)
#   scripts/registry.sh status   exit 0 when a registry answers on the port, 3 when not
#   scripts/registry.sh build    only build .cache/bin/schema-registry
#
# Env: REGISTRY_START_TIMEOUT (s, default 30), REGISTRY_BUILD_TIMEOUT (s, default 1500).
set -euo pipefail

# shellcheck disable=SC2034 # read by lib/common.sh
COMPONENT=registry
# shellcheck source=scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

BIN_DIR="$CACHE/bin"
BIN="$BIN_DIR/schema-registry"
BUILD_DIR="$CACHE/registry-build"
RUN_DIR="$CACHE/registry"
LOG="$RUN_DIR/registry.out"
PIDFILE="$RUN_DIR/registry.pid"
PID_PATTERN="$BIN"
URL="http://$INFRA_HOST:$REGISTRY_PORT"
MIN_GO_MINOR=26

require_go() {
  require_cmd go "Go 1.$MIN_GO_MINOR or newer (https://go.dev/dl/)"
  local v minor
  v="$(GOTOOLCHAIN=local go env GOVERSION)"
  minor="$(printf '%s' "$v" | sed -nE 's/^go1\.([0-9]+).*/\1/p')"
  if [ -z "$minor" ] || [ "$minor" -lt "$MIN_GO_MINOR" ]; then
    die "$REGISTRY_MODULE@$REGISTRY_VERSION needs Go 1.$MIN_GO_MINOR or newer, found $v"
  fi
}

installed_version_ok() {
  [ -x "$BIN" ] && "$BIN" -version 2>/dev/null | grep -qF " $REGISTRY_VERSION "
}

# The build steps, in $BUILD_DIR (a subshell each, so the exports stay there).
fetch_modules() (
  cd "$BUILD_DIR"
  export GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off GO111MODULE=on GOFLAGS=-mod=mod
  go mod init kontract.local/registry-build >/dev/null 2>&1
  if ! timeout "${REGISTRY_BUILD_TIMEOUT:-1500}" go get \
    "$REGISTRY_MODULE/cmd/schema-registry@$REGISTRY_VERSION" >get.log 2>&1; then
    grep -v '^go: downloading ' get.log >&2 || true
    exit 1
  fi
)
compile_registry() (
  cd "$BUILD_DIR"
  export GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off GO111MODULE=on GOFLAGS=-mod=mod
  timeout "${REGISTRY_BUILD_TIMEOUT:-1500}" go build -trimpath \
    -ldflags "-X main.version=$REGISTRY_VERSION" -o "$BIN.tmp" "$REGISTRY_MODULE/cmd/schema-registry"
)

# Builds the pinned tag into .cache/bin. Not `go install pkg@version`: that also asks the proxy
# for the module's version list (deprecation check), and the proxy this project can reach answers
# 403 for that list. A throwaway module that requires the exact tag needs no list lookup;
# dependency versions still come from the registry's own go.mod, checked against the sum database.
build() {
  if installed_version_ok; then
    return 0
  fi
  require_go
  local t0
  t0="$(now_s)"
  log "building $REGISTRY_MODULE@$REGISTRY_VERSION into $BIN (first run only; 2-3 min on 2 cores)"
  rm -rf "$BUILD_DIR"
  mkdir -p "$BUILD_DIR" "$BIN_DIR"
  if ! with_progress "downloading the registry's Go modules" fetch_modules ||
    ! with_progress "compiling the registry" compile_registry; then
    rm -f "$BIN.tmp"
    die "building $REGISTRY_MODULE@$REGISTRY_VERSION failed (see the go output above)"
  fi
  mv -f "$BIN.tmp" "$BIN"
  installed_version_ok || die "built $BIN but '$BIN -version' does not report $REGISTRY_VERSION"
  log "built in $(elapsed "$t0")s"
}

start() {
  already_running "$PIDFILE" "$PID_PATTERN" "$URL" "$REGISTRY_PORT" registry && return 0
  build
  # Settings inherited from the caller (auth, other storage, ...) must not leak in.
  local unset_args=() name
  for name in $(compgen -e | grep '^SCHEMA_REGISTRY_' || true); do
    unset_args+=(-u "$name")
  done
  start_service "the registry" "$REGISTRY_VERSION, in-memory storage" "${REGISTRY_START_TIMEOUT:-30}" ready -- \
    env "${unset_args[@]}" \
    SCHEMA_REGISTRY_HOST="$INFRA_HOST" \
    SCHEMA_REGISTRY_PORT="$REGISTRY_PORT" \
    SCHEMA_REGISTRY_STORAGE_TYPE=memory \
    SCHEMA_REGISTRY_COMPATIBILITY_LEVEL=BACKWARD \
    SCHEMA_REGISTRY_LOG_LEVEL=warn \
    "$BIN"
}

stop() { stop_service "$PIDFILE" "$PID_PATTERN" registry "${REGISTRY_STOP_TIMEOUT:-15}"; }

ready() { http_ok "$URL/health/ready" && http_ok "$URL/subjects"; }
registry_answers() { http_ok "$URL/subjects"; }
status() { service_status "$PIDFILE" "$PID_PATTERN" "$URL" "$LOG" registry_answers; }

service_main build "$@"
