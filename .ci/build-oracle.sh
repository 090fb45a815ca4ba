#!/usr/bin/env bash
# Builds the argo-expr-oracle used by the parity tests (tests/parity/) and prints its path.
#
# The oracle's sources live read-only in the shared folder, so they are copied into a
# scratch build area first; build.sh apt-installs Debian's Go toolchain and libraries.
#
#   FLOWSPEC_SHARED   shared folder (default: ../shared relative to the repository root)
#   FLOWSPEC_ORACLE   where to install the binary (default: /tmp/flowspec-oracle/argo-expr-oracle)
#
# Usage:  export FLOWSPEC_ORACLE="$(.ci/build-oracle.sh | tail -n 1)"
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
shared="${FLOWSPEC_SHARED:-$repo_root/../shared}"
src="$shared/tools/argo-expr-oracle"
dest="${FLOWSPEC_ORACLE:-/tmp/flowspec-oracle/argo-expr-oracle}"

if [ ! -f "$src/oracle.go" ] || [ ! -f "$src/build.sh" ]; then
  echo "build-oracle: no oracle sources in $src (set FLOWSPEC_SHARED)" >&2
  exit 2
fi

# Reuse a binary built from the very same sources (the stamp holds their checksum).
stamp="$dest.sources.sha256"
sources_sum="$(cat "$src/oracle.go" "$src/build.sh" | sha256sum | cut -d' ' -f1)"
if [ -x "$dest" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sources_sum" ]; then
  echo "build-oracle: $dest is up to date" >&2
  echo "$dest"
  exit 0
fi

build_dir="$(mktemp -d "${TMPDIR:-/tmp}/flowspec-oracle-build.XXXXXX")"
trap 'rm -rf "$build_dir"' EXIT
cp "$src/oracle.go" "$src/build.sh" "$build_dir/"
chmod +x "$build_dir/build.sh"

# build.sh's own progress goes to stderr so that stdout ends with the binary path only.
"$build_dir/build.sh" >&2

mkdir -p "$(dirname "$dest")"
install -m 0755 "$build_dir/argo-expr-oracle" "$dest"
echo "$sources_sum" > "$stamp"
echo "$dest"
