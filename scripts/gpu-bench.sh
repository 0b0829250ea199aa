#!/usr/bin/env bash
# Runs `bench webgpu` (bench/webgpu.ts) from the bundle that scripts/build-gpu-bundle.sh made, on a
# lent GPU machine with no Node.js and no network: run from the repository root, with .gpu/ (and
# .gl/, the Vulkan and GL loaders as .deb files) carried there. On a machine with `nvidia-smi` it
# unpacks the loaders into / (as the device tool's README says) and points the Vulkan loader at the
# NVIDIA driver; elsewhere it leaves / alone and uses the Vulkan ICD the environment names (e.g.
# lavapipe from scripts/setup-lavapipe.sh, with RHO_SLM_ALLOW_SOFTWARE_GPU=1). Results go to $OUT
# (webgpu.json, webgpu.txt); RHO_SLM_BENCH_* knobs pass through (see bench/webgpu.ts).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/gpu-bench-out}
mkdir -p "$out"
if command -v nvidia-smi >/dev/null; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
  nvidia-smi -L
  icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  [ -f "$icd" ] || icd=$(find /usr/local/nvidia /usr/share/vulkan /etc/vulkan -name 'nvidia_icd*.json' 2>/dev/null | head -n 1)
  if [ -n "$icd" ]; then export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd; fi
  echo "Vulkan driver: ${icd:-none found (the loader searches its default folders)}"
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
else
  echo "no nvidia-smi: Vulkan ICD from the environment (${VK_ICD_FILENAMES:-${VK_DRIVER_FILES:-default}})"
fi
root=/tmp/rho-slm-gpu
rm -rf "$root"
start=$SECONDS
tar -xJf .gpu/bundle.tar.xz -C /tmp || exit 1
echo "unpacked in $((SECONDS - start)) s; node $("$root/node" --version)"
export RHO_SLM_BENCH_OUT=$out
# Each part is reported (and written to $out) as soon as it is measured, so a kill loses only the rest.
timeout "${RHO_SLM_BENCH_TIMEOUT:-330}" "$root/node" "$root/bench.mjs" webgpu
status=$?
[ "$status" -eq 124 ] && echo "bench webgpu: stopped after ${RHO_SLM_BENCH_TIMEOUT:-330} s"
exit "$status"
