#!/usr/bin/env bash
# Builds the argo-expr-oracle used by the parity tests (tests/parity/, tests/compile/) and
# prints its path. Its sources are the repository's own, in tests/parity/oracle/; they are
# copied to a scratch directory and built there (build.sh apt-installs Debian's Go toolchain
# and libraries), so nothing is written into the working tree and nothing outside the
# repository is read.
#
#   FLOWSPEC_ORACLE   where to install the binary (default: /tmp/flowspec-oracle/argo-expr-oracle)
#
# Usage:  export FLOWSPEC_ORACLE="$(.ci/build-oracle.sh | tail -n 1)"
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
src="$repo_root/tests/parity/oracle"
dest="${FLOWSPEC_ORACLE:-/tmp/flowspec-oracle/argo-expr-oracle}"

# The sources: every Go file, build.sh and the README (never a built binary).
mapfile -t sources < <(cd "$src" && find . -maxdepth 1 -type f \
  \( -name '*.go' -o -name build.sh -o -name README.md \) -printf '%P\n' | LC_ALL=C sort)
if [ ! -f "$src/build.sh" ] || ! printf '%s\n' "${sources[@]}" | grep -q '\.go$'; then
  echo "build-oracle: no oracle sources in $src" >&2
  exit 2
fi

# Reuse a binary built from the very same sources: the stamp holds a checksum over each
# file's name and content, so adding, removing or renaming a file counts as a change too.
stamp="$dest.sources.sha256"
sources_sum="$(cd "$src" && for f in "${sources[@]}"; do
  printf '%s %s\n' "$(sha256sum < "$f" | cut -d' ' -f1)" "$f"
done | sha256sum | cut -d' ' -f1)"
if [ -x "$dest" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sources_sum" ]; then
  echo "build-oracle: $dest is up to date" >&2
  echo "$dest"
  exit 0
fi

build_dir="$(mktemp -d "${TMPDIR:-/tmp}/flowspec-oracle-build.XXXXXX")"
trap 'rm -rf "$build_dir"' EXIT
(cd "$src" && cp -- "${sources[@]}" "$build_dir/")

# build.sh's own progress goes to stderr so that stdout ends with the binary path only.
bash "$build_dir/build.sh" "$build_dir/argo-expr-oracle" >&2

mkdir -p "$(dirname "$dest")"
install -m 0755 "$build_dir/argo-expr-oracle" "$dest"
echo "$sources_sum" > "$stamp"
echo "$dest"
