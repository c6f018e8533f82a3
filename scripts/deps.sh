#!/bin/bash
# deps.sh: install the Debian 12 packages cutaway needs, only those missing.
# `make deps` runs it; `make test` and `make demo` call it first.  It never
# downloads anything but Debian packages.
set -euo pipefail

packages=(
  # build
  build-essential pkg-config clang-format clang-tidy cppcheck
  # libraries (design.md §4)
  libseccomp-dev libcap-dev libcjson-dev libcurl4-openssl-dev libarchive-dev
  libssl-dev libmicrohttpd-dev libgraphviz-dev graphviz libmnl-dev
  # tests and fixtures
  perl busybox-static jq iproute2 zstd apache2-utils openssl libxml2-utils time curl
  # peers for interop tests and benchmarks
  runc crun containerd docker.io docker-registry skopeo umoci hyperfine
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "deps: missing packages: ${missing[*]} (run 'make deps' as root)" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
