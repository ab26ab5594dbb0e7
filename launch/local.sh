#!/usr/bin/env bash
# Train (then evaluate) one config on this machine's devices.
#   launch/local.sh configs/deepstego_embedded.py runs/deepstego_embedded [--config.num_train_steps=100 ...]
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 CONFIG[:args] WORKDIR [extra flags]" >&2
  exit 2
fi
config=$1 workdir=$2
shift 2
cd "$(dirname "$0")/.."
exec python -m jaxsteg.main --config "$config" --workdir "$workdir" "$@"
