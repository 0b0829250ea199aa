#!/usr/bin/env bash
# Unpacks Mesa ≥ 25 lavapipe (software Vulkan) and the Vulkan loader from Debian's
# bookworm-backports into .cache/vulkan, without installing anything system-wide, so the WebGPU
# backend (Dawn through the `webgpu` package) finds an adapter on a GPU-less machine. The apt
# source is built from the URIs this machine already has configured. On success prints the
# environment to use (eval it); on failure explains why and exits non-zero.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/.cache/vulkan"
lib="$cache/root/usr/lib/x86_64-linux-gnu"

if [ ! -f "$cache/lvp_icd.json" ]; then
  sources=/etc/apt/sources.list.d/debian.sources
  uri=$(awk '/^URIs:/{u=$2} /^Suites:/{for(i=2;i<=NF;i++) if($i=="bookworm"){print u; exit}}' "$sources" 2>/dev/null || true)
  if [ -z "$uri" ]; then
    echo "setup-lavapipe: no Debian bookworm source found in $sources" >&2
    exit 1
  fi
  mkdir -p "$cache/apt/lists/partial" "$cache/apt/archives/partial" "$cache/apt/sources" "$cache/root"
  printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$uri" > "$cache/apt/sources/backports.sources"
  apt_options=(
    -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$cache/apt/sources"
    -o "Dir::State::Lists=$cache/apt/lists" -o "Dir::Cache::Archives=$cache/apt/archives"
    -o Debug::NoLocking=1
  )
  apt-get "${apt_options[@]}" update -qq >&2
  apt-get "${apt_options[@]}" install -y -qq --download-only -t bookworm-backports mesa-vulkan-drivers libvulkan1 >&2
  for deb in "$cache"/apt/archives/*.deb; do dpkg-deb -x "$deb" "$cache/root"; done
  sed "s|\"library_path\": \"[^\"]*\"|\"library_path\": \"$lib/libvulkan_lvp.so\"|" \
    "$cache/root/usr/share/vulkan/icd.d/lvp_icd.json" > "$cache/lvp_icd.json"
fi
echo "export LD_LIBRARY_PATH=\"$lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}\""
echo "export VK_ICD_FILENAMES=\"$cache/lvp_icd.json\""
echo "export RHO_SLM_TEST_WEBGPU=1"
