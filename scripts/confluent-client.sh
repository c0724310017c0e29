#!/usr/bin/env bash
# Makes the native binding of @confluentinc/kafka-javascript (a devDependency, for the tests and
# the bench) loadable, without the network and without building it twice.
#
#   scripts/confluent-client.sh             restore it from .cache, or build it once and cache it
#   scripts/confluent-client.sh --optional  the same, but only warn when the Debian -dev packages
#                                           are missing (what `prepare` runs on every npm ci)
#
# Why not the package's own install script (package.json allowScripts denies it): it downloads a
# prebuilt binary from GitHub, and its fallback build links librdkafka statically after downloading
# the sources of zlib, OpenSSL, zstd and curl. Neither is reachable from every machine, and npm ci
# wipes node_modules, so it would build again on every install. Here librdkafka is linked against
# the system libraries (CKJS_LINKING=dynamic: libcurl4-openssl-dev zlib1g-dev libssl-dev
# libzstd-dev liblz4-dev libsasl2-dev), and the result (the .node file and the two librdkafka
# shared objects it loads from ../deps) is kept in .cache/confluent-kafka-javascript/, one tarball
# per package version, Node ABI, platform and architecture. A warm install extracts it (well under
# a second); a cold one builds it (about 80 s on a 2-core machine).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKG="$ROOT/node_modules/@confluentinc/kafka-javascript"
CACHE_DIR="$ROOT/.cache/confluent-kafka-javascript"
# What the binding needs at run time, relative to the package: the addon, and librdkafka beside it.
FILES=(build/Release/confluent-kafka-javascript.node build/deps/librdkafka.so.1 build/deps/librdkafka++.so.1)
DEBIAN_PACKAGES="libcurl4-openssl-dev zlib1g-dev libssl-dev libzstd-dev liblz4-dev libsasl2-dev"
PKG_CONFIG_NAMES="libcurl zlib libssl libcrypto libzstd liblz4 libsasl2"

optional=0
[ "${1:-}" = "--optional" ] && optional=1

log() { printf 'confluent-client: %s\n' "$*"; }
die() {
  printf 'confluent-client: error: %s\n' "$*" >&2
  exit 1
}

loads() { (cd "$ROOT" && node -e 'require("@confluentinc/kafka-javascript")' >/dev/null 2>&1); }

[ -f "$PKG/package.json" ] || {
  log "@confluentinc/kafka-javascript is not installed (npm ci --omit=dev?): nothing to do"
  exit 0
}
if loads; then exit 0; fi

version="$(node -p 'require(process.argv[1]).version' "$PKG/package.json")"
key="$version-node-v$(node -p process.versions.modules)-$(node -p 'process.platform + "-" + process.arch')"
tarball="$CACHE_DIR/$key.tar.gz"

if [ -f "$tarball" ]; then
  tar -xzf "$tarball" -C "$PKG"
  if loads; then
    log "restored the native binding from ${tarball#"$ROOT"/}"
    exit 0
  fi
  log "the cached binding ${tarball#"$ROOT"/} does not load; building it again"
  rm -f "$tarball"
fi

if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists $PKG_CONFIG_NAMES; then
  msg="building @confluentinc/kafka-javascript needs the Debian packages: $DEBIAN_PACKAGES (apt-get install -y $DEBIAN_PACKAGES)"
  if [ "$optional" = 1 ]; then
    log "skipped: $msg"
    exit 0
  fi
  die "$msg"
fi

log "building the native binding of @confluentinc/kafka-javascript $version (once per version; about 80 s)"
start=$(date +%s)
build_log="$(mktemp)"
# The addon's gyp file runs librdkafka's configure and `make -j` itself; niced, as it takes every core.
# configure and build separately: node-gyp's --jobs would race the configure step.
if ! (cd "$PKG" && rm -rf build && CKJS_LINKING=dynamic nice -n 10 npm run -s configure && CKJS_LINKING=dynamic nice -n 10 npm run -s build) >"$build_log" 2>&1; then
  tail -n 40 "$build_log" >&2
  rm -f "$build_log"
  die "building @confluentinc/kafka-javascript failed (the output's end is above)"
fi
rm -f "$build_log"
loads || die "@confluentinc/kafka-javascript was built but does not load"
mkdir -p "$CACHE_DIR"
tmp="$(mktemp "$CACHE_DIR/.partial.XXXXXX")"
tar -czf "$tmp" -C "$PKG" "${FILES[@]}"
chmod 644 "$tmp"
mv "$tmp" "$tarball"
log "built in $(($(date +%s) - start)) s; cached as ${tarball#"$ROOT"/}"
