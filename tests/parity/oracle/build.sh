#!/usr/bin/env bash
# Builds the argo-expr-oracle from the Go files beside this script, in GOPATH mode, with
# Go and the libraries from Debian (bookworm) packages only: no module download.
#
# Usage: build.sh [OUTPUT]      (default OUTPUT: ./argo-expr-oracle beside this script)
#
# .ci/build-oracle.sh copies this folder to a scratch directory and builds there, so the
# working tree is never written to; run this directly only in a scratch copy too.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
output="$(realpath -m "${1:-$here/argo-expr-oracle}")"

packages=(
  golang-go                              # Go 1.19
  golang-github-knetic-govaluate-dev     # 3.0.0+git20171022.9aa4983: the commit Argo pins
  golang-github-antonmedv-expr-dev       # 1.8.9 (Argo v4.1 pins expr-lang/expr v1.17.8)
  golang-github-valyala-fasttemplate-dev # 1.2.2: Argo's pin
  golang-github-masterminds-sprig-dev    # 3.2.3 (Argo pins v3.3.0)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi
for p in "${packages[@]:1}"; do
  echo "using $p $(dpkg-query -W -f='${Version}' "$p")"
done

# GOPATH mode: Debian installs the libraries' sources under /usr/share/gocode.
cache="${TMPDIR:-/tmp}/argo-expr-oracle-gocache"
mkdir -p "$cache/gopath" "$cache/build"
cd "$here"
GO111MODULE=off GOFLAGS= GOPATH="/usr/share/gocode:$cache/gopath" GOCACHE="$cache/build" \
  go build -o "$output" .
echo "built $output"
