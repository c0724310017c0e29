#!/usr/bin/env bash
# A real AWS KMS emulator for the aws-kms driver's integration tests: moto's server, installed from
# PyPI at the version pinned in scripts/versions.env into a virtualenv under .cache/moto, on
# 127.0.0.1. Its keys live in memory: a restart forgets them (the tests create their own).
#
#   scripts/kms.sh start     install if needed, start, wait until ready
#   scripts/kms.sh stop      stop the emulator started by this script
#   scripts/kms.sh status    exit 0 when an emulator answers on the port, 3 when not
#   scripts/kms.sh install   only install moto into .cache/moto
#
# Env: KMS_START_TIMEOUT (s, default 30), KMS_INSTALL_TIMEOUT (s, default 600).
set -euo pipefail

# shellcheck disable=SC2034 # read by lib/common.sh
COMPONENT=kms
# shellcheck source=scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

VENV="$CACHE/moto"
BIN="$VENV/bin/moto_server"
RUN_DIR="$CACHE/kms"
LOG="$RUN_DIR/kms.out"
PIDFILE="$RUN_DIR/kms.pid"
PID_PATTERN="$BIN"
URL="http://$INFRA_HOST:$KMS_PORT"

installed_version_ok() {
  [ -x "$BIN" ] && "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('moto') != '$MOTO_VERSION')" 2>/dev/null
}

pip_install() {
  timeout "${KMS_INSTALL_TIMEOUT:-600}" "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >"$RUN_DIR/pip.log" 2>&1 || {
    tail_log "$RUN_DIR/pip.log"
    return 1
  }
}

install() {
  installed_version_ok && return 0
  require_cmd python3 "Python 3.9 or newer with venv (Debian: apt-get install python3 python3-venv)"
  local t0
  t0="$(now_s)"
  log "installing moto[server]==$MOTO_VERSION into $VENV (first run only)"
  mkdir -p "$RUN_DIR"
  rm -rf "$VENV"
  python3 -m venv "$VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  with_progress "installing moto from PyPI" pip_install || die "installing moto[server]==$MOTO_VERSION failed (see the pip output above)"
  installed_version_ok || die "installed moto but its version is not $MOTO_VERSION"
  log "installed in $(elapsed "$t0")s"
}

# moto answers every path; its dashboard API is a cheap, side-effect-free probe.
ready() { http_ok "$URL/moto-api/data.json"; }

start() {
  already_running "$PIDFILE" "$PID_PATTERN" "$URL" "$KMS_PORT" emulator && return 0
  install
  # AWS settings inherited from the caller must not point the emulator anywhere else.
  start_service "the KMS emulator" "moto $MOTO_VERSION" "${KMS_START_TIMEOUT:-30}" ready -- \
    env -u AWS_PROFILE -u AWS_ENDPOINT_URL "$BIN" -H "$INFRA_HOST" -p "$KMS_PORT"
}

stop() { stop_service "$PIDFILE" "$PID_PATTERN" kms "${KMS_STOP_TIMEOUT:-15}"; }

status() { service_status "$PIDFILE" "$PID_PATTERN" "$URL" "$LOG" ready; }

service_main install "$@"
