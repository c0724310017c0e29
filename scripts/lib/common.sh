# Shared helpers for scripts/kafka.sh, scripts/registry.sh and scripts/infra.sh. Sourced, not run.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SCRIPTS="$ROOT/scripts"
CACHE="$ROOT/.cache"

# shellcheck source=scripts/versions.env
. "$SCRIPTS/versions.env"

# The fd that holds the infra lock. Background services are started with it closed, otherwise the
# long-lived broker would inherit the lock and every later `up` would wait for it.
INFRA_LOCK_FD=9

log() { printf '%s: %s\n' "${COMPONENT:-infra}" "$*"; }
warn() { printf '%s: %s\n' "${COMPONENT:-infra}" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "${COMPONENT:-infra}" "$*" >&2
  exit 1
}

# require_cmd NAME WHAT-TO-INSTALL
require_cmd() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH; install $2"
}

# Serialises start/stop across processes (parallel test files all call `infra.sh up`).
# Re-entrant across our own scripts through KONTRACT_INFRA_LOCK_HELD.
acquire_lock() {
  [ -n "${KONTRACT_INFRA_LOCK_HELD:-}" ] && return 0
  mkdir -p "$CACHE"
  require_cmd flock "util-linux (Debian: apt-get install util-linux)"
  eval "exec ${INFRA_LOCK_FD}>\"\$CACHE/infra.lock\""
  if ! flock -w "${KONTRACT_INFRA_LOCK_TIMEOUT:-1800}" "$INFRA_LOCK_FD"; then
    die "timed out waiting for $CACHE/infra.lock (another start/stop is running)"
  fi
  export KONTRACT_INFRA_LOCK_HELD=1
}

# port_open HOST PORT: something accepts TCP connections there.
port_open() {
  timeout 2 bash -c ">/dev/tcp/$1/$2" >/dev/null 2>&1
}

# http_ok URL: GET answers 2xx.
http_ok() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -m 3 -o /dev/null "$1" >/dev/null 2>&1
  else
    # Plain bash fallback: parse host, port and path from http://host:port/path.
    local rest="${1#http://}" hostport path host port status
    hostport="${rest%%/*}"
    path="/${rest#*/}"
    host="${hostport%%:*}"
    port="${hostport##*:}"
    # shellcheck disable=SC2016 # expanded by the inner shell
    status="$(timeout 3 bash -c '
      exec 3<>"/dev/tcp/$1/$2" || exit 1
      printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$3" "$1" >&3
      head -n1 <&3' _ "$host" "$port" "$path" 2>/dev/null)" || return 1
    [[ "$status" =~ ^HTTP/[0-9.]+\ 2[0-9][0-9] ]]
  fi
}

# pid_of PIDFILE PATTERN: prints the pid when the recorded process is alive and its command line
# contains PATTERN (guards against a recycled pid after a reboot or a crash).
pid_of() {
  local pidfile="$1" pattern="$2" pid
  [ -f "$pidfile" ] || return 1
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern" || return 1
  printf '%s\n' "$pid"
}

# launch PIDFILE LOGFILE CMD...: starts CMD detached (own session, no terminal, no inherited lock or
# pipes, so a caller capturing our output is not kept waiting), records its pid.
launch() {
  local pidfile="$1" logfile="$2"
  shift 2
  : >"$logfile"
  # A pid file left by a service that died with its machine would pass the wait below before the
  # inner shell rewrites it, and the caller would read it half-written.
  rm -f "$pidfile"
  # `exec` keeps the pid written by the inner shell equal to the service's pid.
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$pidfile" "$@" \
    </dev/null >>"$logfile" 2>&1 {INFRA_LOCK_FD}>&- &
  # Wait (bounded) for the inner shell to record the pid.
  local _
  for _ in $(seq 1 50); do
    [ -s "$pidfile" ] && return 0
    sleep 0.1
  done
  die "could not record the pid of: $*"
}

# already_running PIDFILE PATTERN URL PORT WHAT: true (and says so) when the service this script
# started runs; false when the port is free; dies when another process holds the port.
already_running() {
  local pid
  if pid="$(pid_of "$1" "$2")"; then
    log "already running (pid $pid) at $3"
    return 0
  fi
  if port_open "$INFRA_HOST" "$4"; then
    die "port $INFRA_HOST:$4 is taken by another process (not started by this script); stop it, or use scripts/infra.sh up, which reuses a running $5"
  fi
  return 1
}

# wait_ready WHAT PIDFILE LOGFILE TIMEOUT_S PROBE...: waits until PROBE (a command or function)
# succeeds for the service just launched. When the process exits first, or TIMEOUT_S passes (then it
# is stopped), prints the log's tail and dies naming WHAT ("the KMS emulator").
wait_ready() {
  local what="$1" pidfile="$2" logfile="$3" timeout_s="$4" pid deadline
  shift 4
  pid="$(cat "$pidfile")"
  deadline=$((SECONDS + timeout_s))
  until "$@"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pidfile"
      tail_log "$logfile"
      die "$what exited during startup"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail_log "$logfile"
      stop_pid "$pid" "${COMPONENT:-service}" 10 || true
      rm -f "$pidfile"
      die "$what was not ready within ${timeout_s}s"
    fi
    sleep 0.2
  done
}

# stop_pid PID NAME [TIMEOUT_S]: SIGTERM, wait, then SIGKILL.
stop_pid() {
  local pid="$1" name="$2" timeout_s="${3:-30}" _
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 $((timeout_s * 10))); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  warn "$name (pid $pid) did not stop within ${timeout_s}s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  die "$name (pid $pid) survived SIGKILL"
}

# tail_log FILE: last lines of a service log, on stderr, for failure reports.
tail_log() {
  [ -f "$1" ] || return 0
  printf -- '----- last 40 lines of %s -----\n' "$1" >&2
  tail -n 40 "$1" >&2 || true
  printf -- '----- end of %s -----\n' "$1" >&2
}

# with_progress WHAT CMD...: runs CMD (a command or function) and, while it runs, says every
# KONTRACT_PROGRESS_EVERY seconds (15) that WHAT is still going, so a cold start that takes minutes
# is never silent. Returns CMD's exit status.
with_progress() {
  local what="$1" job t0 n=0 every="${KONTRACT_PROGRESS_EVERY:-15}"
  shift
  t0="$(now_s)"
  "$@" &
  job=$!
  while kill -0 "$job" 2>/dev/null; do
    sleep 1
    n=$((n + 1))
    if [ $((n % every)) -eq 0 ] && kill -0 "$job" 2>/dev/null; then log "$what... ($(elapsed "$t0")s)"; fi
  done
  wait "$job"
}

# now_s: seconds since the epoch with a fraction, for timings.
now_s() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }'; }

# stop_service PIDFILE PATTERN NAME TIMEOUT_S: stops the service this script started, if it runs.
stop_service() {
  local pid
  if pid="$(pid_of "$1" "$2")"; then
    log "stopping (pid $pid)"
    stop_pid "$pid" "$3" "$4"
    log "stopped"
  else
    log "not running (nothing started by this script)"
  fi
  rm -f "$1"
}

# service_status PIDFILE PATTERN WHERE LOGFILE PROBE...: exit 0 when PROBE succeeds (whoever started
# the service), 3 when not; says which.
service_status() {
  local pidfile="$1" pattern="$2" where="$3" logfile="$4" pid
  shift 4
  if pid="$(pid_of "$pidfile" "$pattern")"; then
    if "$@"; then
      log "running (pid $pid) at $where"
      return 0
    fi
    log "process $pid is alive but $where does not answer (starting or broken; log: $logfile)"
    return 3
  fi
  if "$@"; then
    log "something not started by this script answers at $where"
    return 0
  fi
  log "not running"
  return 3
}

# start_service WHAT NOTE TIMEOUT_S PROBE -- CMD...: launches CMD as this script's service ($PIDFILE,
# $LOG kept as $LOG.prev once), waits until PROBE answers and says how long it took. NOTE goes in
# the "starting" line (a version).
start_service() {
  local what="$1" note="$2" timeout_s="$3" probe="$4" t0
  shift 5
  t0="$(now_s)"
  mkdir -p "$RUN_DIR"
  [ -f "$LOG" ] && mv -f "$LOG" "$LOG.prev"
  launch "$PIDFILE" "$LOG" "$@"
  log "starting (pid $(cat "$PIDFILE"), $note)"
  wait_ready "$what" "$PIDFILE" "$LOG" "$timeout_s" "$probe"
  log "ready at $URL in $(elapsed "$t0")s"
}

# service_main PREPARE ARGS...: the command line of a service script: start|stop|status, and
# PREPARE (build, install) which fetches or builds it without starting it.
service_main() {
  local prepare="$1"
  shift
  case "${1:-}" in
    start) acquire_lock; start ;;
    stop) acquire_lock; stop ;;
    status) status ;;
    "$prepare") acquire_lock; "$prepare" ;;
    *)
      echo "usage: $0 start|stop|status|$prepare" >&2
      exit 2
      ;;
  esac
}
