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

up() {
  acquire_lock
  local t0 kafka_job="" registry_job="" kms_job="" vault_job="" failed=0
  t0="$(now_s)"

  if port_open "$INFRA_HOST" "$KAFKA_PORT"; then
    log "reusing the Kafka broker already listening on $BOOTSTRAP"
  else
    "$SCRIPTS/kafka.sh" start &
    kafka_job=$!
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
    registry_job=$!
  fi

  if "$SCRIPTS/kms.sh" status >/dev/null 2>&1; then
    log "reusing the KMS emulator already answering at $KMS_URL"
  elif port_open "$INFRA_HOST" "$KMS_PORT"; then
    warn "error: $INFRA_HOST:$KMS_PORT is taken by something that is not the KMS emulator"
    failed=1
  else
    "$SCRIPTS/kms.sh" start &
    kms_job=$!
  fi

  if "$SCRIPTS/vault.sh" status >/dev/null 2>&1; then
    log "reusing the Vault server already answering at $VAULT_URL"
  elif port_open "$INFRA_HOST" "$VAULT_PORT"; then
    warn "error: $INFRA_HOST:$VAULT_PORT is taken by something that is not a Vault server"
    failed=1
  else
    "$SCRIPTS/vault.sh" start &
    vault_job=$!
  fi

  if [ -n "$kafka_job" ]; then
    if wait "$kafka_job"; then record_started kafka; else failed=1; fi
  fi
  if [ -n "$registry_job" ]; then
    if wait "$registry_job"; then record_started registry; else failed=1; fi
  fi
  if [ -n "$kms_job" ]; then
    if wait "$kms_job"; then record_started kms; else failed=1; fi
  fi
  if [ -n "$vault_job" ]; then
    if wait "$vault_job"; then record_started vault; else failed=1; fi
  fi
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
