#!/usr/bin/env bash
# Train or evaluate on GPUs: one process per host drives all of that host's GPUs.
#
#   launch/gpu.sh CONFIG WORKDIR [flags]      one host: every visible GPU (limit with CUDA_VISIBLE_DEVICES)
#
# Several hosts: run the same command on every host. The process layout comes from, in this order:
#   - SLURM (srun launches one task per node): jax.distributed.initialize() reads it by itself;
#   - MASTER_ADDR, MASTER_PORT, WORLD_SIZE (number of hosts) and RANK or NODE_RANK (this host), as
#     torchrun / Kubernetes job controllers set them;
#   - or JAXSTEG_COORDINATOR (host:port), JAXSTEG_NUM_PROCESSES, JAXSTEG_PROCESS_ID set by hand.
# WORKDIR must be on storage every host sees (a shared filesystem or gs://). Install with the CUDA wheel:
#   pip install -r requirements.txt -e . 'jax[cuda12]==0.10.2'
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage:" >&2
  sed -n '2,13p' "$0" >&2
  exit 2
fi
config=$1 workdir=$2
shift 2
cd "$(dirname "$0")/.."

dist=()
if [ -n "${JAXSTEG_COORDINATOR:-}" ]; then
  dist=(--distributed "--coordinator_address=$JAXSTEG_COORDINATOR" "--num_processes=${JAXSTEG_NUM_PROCESSES:?}"
        "--process_id=${JAXSTEG_PROCESS_ID:?}")
elif [ -n "${MASTER_ADDR:-}" ] && [ "${WORLD_SIZE:-1}" -gt 1 ]; then
  rank=${RANK:-${NODE_RANK:?set RANK or NODE_RANK for this host}}
  dist=(--distributed "--coordinator_address=$MASTER_ADDR:${MASTER_PORT:-29500}" "--num_processes=$WORLD_SIZE"
        "--process_id=$rank")
elif [ -n "${SLURM_JOB_ID:-}" ] && [ "${SLURM_NTASKS:-1}" -gt 1 ]; then
  dist=(--distributed)
fi

# Overlap the gradient all-reduce with compute (a no-op on one GPU).
export XLA_FLAGS="${XLA_FLAGS:-} --xla_gpu_enable_latency_hiding_scheduler=true"
exec python -m jaxsteg.main --config "$config" --workdir "$workdir" "${dist[@]}" "$@"
