#!/usr/bin/env bash
# Train or evaluate on a Cloud TPU VM pod slice (v4, v5e, v5p, ...): the same command on every worker.
#
#   launch/tpu_pod.sh setup TPU ZONE                       copy this checkout to every worker and install it
#   launch/tpu_pod.sh train TPU ZONE CONFIG WORKDIR [flags]   train (then evaluate) on all workers
#   launch/tpu_pod.sh eval  TPU ZONE CONFIG WORKDIR [flags]   evaluate the latest checkpoint on all workers
#   launch/tpu_pod.sh stop  TPU ZONE                       kill jaxsteg on every worker
#
# WORKDIR and the data live on GCS (gs://...), which every worker reads and writes. Prepare TFDS data once
# (python -m jaxsteg.data.prepare NAME --data_dir gs://BUCKET/tensorflow_datasets) and set TFDS_DATA_DIR to it;
# it is passed on to the workers. An evaluator beside training runs on a separate machine (see README
# "Scaling out"): python -m jaxsteg.main --mode=eval_watch --config CONFIG --workdir WORKDIR.
# Needs: gcloud, authenticated, with the TPU VM already created.
set -euo pipefail

usage() {
  echo "usage:" >&2
  sed -n '4,7p' "$0" >&2
  exit 2
}

[ $# -ge 3 ] || usage
action=$1 tpu=$2 zone=$3
shift 3
remote_dir=${JAXSTEG_REMOTE_DIR:-jaxsteg}
jax_tpu=${JAXSTEG_JAX_TPU:-jax[tpu]==0.10.2}

on_all_workers() {
  gcloud compute tpus tpu-vm ssh "$tpu" --zone "$zone" --worker=all --command "$1"
}

case "$action" in
  setup)
    root=$(cd "$(dirname "$0")/.." && pwd)
    on_all_workers "mkdir -p ~/$remote_dir"
    gcloud compute tpus tpu-vm scp --recurse --zone "$zone" --worker=all \
      "$root/jaxsteg" "$root/configs" "$root/launch" "$root/requirements.txt" "$root/pyproject.toml" \
      "$root/README.md" "$tpu:~/$remote_dir/"
    on_all_workers "cd ~/$remote_dir && python3 -m pip install -q -r requirements.txt -e . '$jax_tpu'"
    ;;
  train | eval)
    [ $# -ge 2 ] || usage
    config=$1 workdir=$2
    shift 2
    # printf %q keeps every argument one word through ssh's remote shell.
    extra=$(printf ' %q' "$@")
    env_prefix=""
    if [ -n "${TFDS_DATA_DIR:-}" ]; then
      env_prefix="TFDS_DATA_DIR=$(printf '%q' "$TFDS_DATA_DIR") "
    fi
    # --distributed: jax.distributed.initialize() finds the pod's workers by itself on TPU VMs.
    on_all_workers "cd ~/$remote_dir && ${env_prefix}python3 -m jaxsteg.main --distributed \
--mode=$action --config=$(printf '%q' "$config") --workdir=$(printf '%q' "$workdir")$extra"
    ;;
  stop)
    on_all_workers "pkill -f 'jaxsteg.main' || true"
    ;;
  *)
    usage
    ;;
esac
