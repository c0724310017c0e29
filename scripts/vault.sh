#!/usr/bin/env bash
# A real HashiCorp Vault transit engine for the hcvault KMS driver's integration tests:
# tools/vault-transit, a small Go program that serves Vault's own builtin/logical/transit (the
# github.com/hashicorp/vault module at the version pinned in scripts/versions.env, from the Go
# module proxy) over Vault's HTTP API, in memory, on 127.0.0.1. Its keys are forgotten on restart
# (the tests create their own). Why not the `vault` binary: see docs/infra.md.
#
#   scripts/vault.sh start     build if needed, start, wait until ready
#   scripts/vault.sh stop      stop the server started by this script
#   scripts/vault.sh status    exit 0 when a Vault answers /v1/sys/health on the port, 3 when not
#   scripts/vault.sh build     only build .cache/bin/vault-transit-<version>
#
# Env: VAULT_START_TIMEOUT (s, default 30), VAULT_BUILD_TIMEOUT (s, default 1500).
set -euo pipefail

# shellcheck disable=SC2034 # read by lib/common.sh
COMPONENT=vault
# shellcheck source=scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

SRC="$ROOT/tools/vault-transit"
BIN_DIR="$CACHE/bin"
# Keyed by version: a version bump builds a new binary and never runs a stale one.
BIN="$BIN_DIR/vault-transit-$VAULT_VERSION"
RUN_DIR="$CACHE/vault"
LOG="$RUN_DIR/vault.out"
PIDFILE="$RUN_DIR/vault.pid"
PID_PATTERN="$BIN_DIR/vault-transit-"
URL="http://$INFRA_HOST:$VAULT_PORT"

installed_version_ok() {
  [ -x "$BIN" ] && [ "$("$BIN" -version 2>/dev/null)" = "vault-transit $VAULT_VERSION" ]
}

compile() (
  cd "$SRC"
  # -mod=readonly: go.mod and go.sum are committed; the build must not rewrite them.
  export GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off GO111MODULE=on GOFLAGS=-mod=readonly
  if ! timeout "${VAULT_BUILD_TIMEOUT:-1500}" go build -trimpath -o "$BIN.tmp" . >"$RUN_DIR/build.log" 2>&1; then
    grep -v '^go: downloading ' "$RUN_DIR/build.log" >&2 || true
    exit 1
  fi
)

build() {
  installed_version_ok && return 0
  require_cmd go "Go 1.26 or newer (https://go.dev/dl/)"
  grep -qF "github.com/hashicorp/vault $VAULT_VERSION" "$SRC/go.mod" ||
    die "tools/vault-transit/go.mod does not require github.com/hashicorp/vault $VAULT_VERSION (scripts/versions.env); update both together"
  local t0
  t0="$(now_s)"
  log "building Vault $VAULT_VERSION's transit engine into $BIN (first run only; 1.5-4 min on 2 cores)"
  mkdir -p "$BIN_DIR" "$RUN_DIR"
  if ! with_progress "downloading and compiling Vault's transit engine" compile; then
    rm -f "$BIN.tmp"
    die "building tools/vault-transit failed (see the go output above)"
  fi
  mv -f "$BIN.tmp" "$BIN"
  installed_version_ok || die "built $BIN but '$BIN -version' does not report $VAULT_VERSION"
  log "built in $(elapsed "$t0")s"
}

ready() { http_ok "$URL/v1/sys/health"; }

start() {
  already_running "$PIDFILE" "$PID_PATTERN" "$URL" "$VAULT_PORT" Vault && return 0
  build
  # Test-only credentials, also in versions.env for the tests: this server holds no real secret.
  start_service "the Vault transit server" "Vault $VAULT_VERSION transit" "${VAULT_START_TIMEOUT:-30}" ready -- \
    "$BIN" -addr "$INFRA_HOST:$VAULT_PORT" -root-token "$VAULT_DEV_TOKEN" \
    -approle-role-id "$VAULT_DEV_ROLE_ID" -approle-secret-id "$VAULT_DEV_SECRET_ID"
}

stop() { stop_service "$PIDFILE" "$PID_PATTERN" vault "${VAULT_STOP_TIMEOUT:-15}"; }

status() { service_status "$PIDFILE" "$PID_PATTERN" "$URL" "$LOG" ready; }

service_main build "$@"
