#!/bin/bash
# Crash-safe resume at TinyLlama-1.1B size, from the shell: `rho-slm train` for 2 steps with a
# checkpoint every step, killed with SIGKILL once step 1's checkpoint is recorded, then resumed;
# then the same 2 steps uninterrupted. Prints both runs' times and peak resident memory, and
# whether the two final models are byte-identical. Needs ~22 GB free and ~20 GB of disk; run alone.
# Usage: bench/tinyllama-resume.sh CHECKPOINT_DIR TOKENS.tok [WORK_DIR]   (after npm run build)
set -euo pipefail
checkpoint=$1 tokens=$2 work=${3:-$(mktemp -d)}
args=(--init "$checkpoint" --data "$tokens" --steps 2 --batch 1 --seq-len 256 --checkpoint-every 1)
quiet() { grep -v -E '^I0000|oneDNN|absl|WARNING: All' || true; }
rm -rf "$work/resumed" "$work/uninterrupted"
node dist/cli.js train "${args[@]}" --out "$work/resumed" 2>&1 | quiet &
until grep -qs '"step": *1' "$work/resumed/train-state.json"; do sleep 1; done
# the command and the child it runs TensorFlow in, as a crash would take them
while pkill -9 -f 'dist/cli.js train'; do sleep 1; done
wait || true
/usr/bin/time -f 'resumed run: %e s, peak %M KiB' node dist/cli.js train "${args[@]}" --out "$work/resumed" --resume 2>&1 | quiet
/usr/bin/time -f 'uninterrupted run: %e s, peak %M KiB' node dist/cli.js train "${args[@]}" --out "$work/uninterrupted" 2>&1 | quiet
if cmp -s "$work/resumed/model.safetensors" "$work/uninterrupted/model.safetensors"; then
  echo 'final models: byte-identical'
else
  echo 'final models: DIFFERENT'
  exit 1
fi
