#!/usr/bin/env bash
# Kafka broker, schema registry, KMS emulator and Vault transit server for kontract's integration tests (see docs/infra.md).
#
#   scripts/infra.sh up         start whatever is not already answering on its port; reuse the rest
#   scripts/infra.sh down       stop only what `up` started (recorded in .cache/infra.started)
#   scripts/infra.sh down --all stop whatever scripts/kafka.sh, registry.sh, kms.sh and vault.sh started
#   scripts/infra.sh status     exit 0 when all four answer, 3 otherwise
set -euo pipefail

# shellcheck disable=SC2034 # read by lib/common.sh
COMPONENT=infra
# shellcheck source=scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

STARTED="$CACHE/infra.started"
BOOTSTRAP="$INFRA_HOST:$KAFKA_PORT"
REGISTRY_URL="http://$INFRA_HOST:$REGISTRY_PORT"
KMS_URL="http://$INFRA_HOST:$KMS_PORT"
VAULT_URL="http://$INFRA_HOST:$VAULT_PORT"

record_started() {
  grep -qxF "$1" "$STARTED" 2>/dev/null || printf '%s\n' "$1" >>"$STARTED"
}

# Background start jobs of `up`, as name:pid.
JOBS=()

# start_unless_answering NAME WHAT URL PORT: reuses the service when scripts/NAME.sh status says it
# answers (whoever started it), refuses a port taken by something else, else starts it in the
# background.
start_unless_answering() {
  local name="$1" what="$2" url="$3" port="$4"
  if "$SCRIPTS/$name.sh" status >/dev/null 2>&1; then
    log "reusing the $what already answering at $url"
  elif port_open "$INFRA_HOST" "$port"; then
    warn "error: $INFRA_HOST:$port is taken by something that is not the $what"
    return 1
  else
    "$SCRIPTS/$name.sh" start &
    JOBS+=("$name:$!")
  fi
}

up() {
  acquire_lock
  local t0 job failed=0
  t0="$(now_s)"

  if port_open "$INFRA_HOST" "$KAFKA_PORT"; then
    log "reusing the Kafka broker already listening on $BOOTSTRAP"
  else
    "$SCRIPTS/kafka.sh" start &
    JOBS+=("kafka:$!")
  fi

  if http_ok "$REGISTRY_URL/subjects"; then
    log "reusing the schema registry already answering at $REGISTRY_URL"
  elif port_open "$INFRA_HOST" "$REGISTRY_PORT"; then
    warn "error: $INFRA_HOST:$REGISTRY_PORT is taken by something that is not a schema registry"
    failed=1
  else
    # In parallel with Kafka: on a cold machine the jar download is network-bound and the Go
    # build CPU-bound, so they overlap well.
    "$SCRIPTS/registry.sh" start &
    JOBS+=("registry:$!")
  fi

  start_unless_answering kms "KMS emulator" "$KMS_URL" "$KMS_PORT" || failed=1
  start_unless_answering vault "Vault server" "$VAULT_URL" "$VAULT_PORT" || failed=1

  for job in "${JOBS[@]}"; do
    if wait "${job#*:}"; then record_started "${job%%:*}"; else failed=1; fi
  done
  if [ "$failed" != 0 ]; then
    die "infrastructure is not up (see the messages above); 'scripts/infra.sh down' stops what did start"
  fi
  log "up in $(elapsed "$t0")s: brokers=$BOOTSTRAP registry=$REGISTRY_URL kms=$KMS_URL vault=$VAULT_URL"
}

down() {
  acquire_lock
  local all="${1:-}" name failed=0
  if [ "$all" = "--all" ]; then
    "$SCRIPTS/vault.sh" stop || failed=1
    "$SCRIPTS/kms.sh" stop || failed=1
    "$SCRIPTS/registry.sh" stop || failed=1
    "$SCRIPTS/kafka.sh" stop || failed=1
  elif [ -s "$STARTED" ]; then
    # Registry first: it does not depend on Kafka, but tests may still be talking to both.
    for name in vault kms registry kafka; do
      grep -qxF "$name" "$STARTED" || continue
      "$SCRIPTS/$name.sh" stop || failed=1
    done
  else
    log "nothing to stop (nothing was started by 'scripts/infra.sh up')"
  fi
  rm -f "$STARTED"
  [ "$failed" = 0 ] || die "some services did not stop cleanly"
}

status() {
  local rc=0
  "$SCRIPTS/kafka.sh" status || rc=3
  "$SCRIPTS/registry.sh" status || rc=3
  "$SCRIPTS/kms.sh" status || rc=3
  "$SCRIPTS/vault.sh" status || rc=3
  if [ -s "$STARTED" ]; then
    log "started by 'up' (stopped by 'down'): $(tr '\n' ' ' <"$STARTED")"
  fi
  return "$rc"
}

case "${1:-}" in
  up) up ;;
  down) down "${2:-}" ;;
  status) status ;;
  *)
    echo "usage: $0 up|down [--all]|status" >&2
    exit 2
    ;;
esac
