"""Data parallelism without pmap: one ('data',) mesh, batch sharded over it, state replicated.

Each process feeds its local rows; `jax.make_array_from_process_local_data` assembles the global batch. Multi-host
runs call `maybe_initialize_distributed` first (the launch scripts ask for it with --distributed).
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from jaxsteg import errors

DATA_AXIS = "data"


def maybe_initialize_distributed(enabled: bool, coordinator_address: str | None = None,
                                 num_processes: int | None = None, process_id: int | None = None) -> None:
  """`jax.distributed.initialize` for multi-host runs; arguments left None are read from the cluster."""
  if not enabled:
    return
  # CPU devices of different processes talk through gloo (harmless where an accelerator does the work). Set
  # before initialize: asking for the backend here would start it too early.
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  jax.distributed.initialize(coordinator_address=coordinator_address, num_processes=num_processes,
                             process_id=process_id)


def make_mesh(num_devices: int | None = None) -> jax.sharding.Mesh:
  """A 1-D ('data',) mesh over all devices (or the first `num_devices` of them, single process only)."""
  devices = jax.devices()
  if num_devices:
    if num_devices > len(devices):
      raise errors.ConfigError(f"asked for {num_devices} devices, only {len(devices)} are visible")
    devices = devices[:num_devices]
  return jax.make_mesh((len(devices),), (DATA_AXIS,), axis_types=(jax.sharding.AxisType.Auto,),
                       devices=devices)


def batch_sharding(mesh) -> NamedSharding:
  return NamedSharding(mesh, P(DATA_AXIS))


def replicated(mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def check_batch_size(global_batch: int, mesh) -> None:
  n = mesh.devices.size
  if global_batch % n:
    raise errors.ConfigError(f"batch size {global_batch} must be a multiple of the device count {n}; "
                     f"change config.batch_size (or the eval batch size)")


def to_global(local_batch: Any, sharding: NamedSharding) -> Any:
  """Host-local numpy rows of every process -> one global jax.Array per leaf, sharded over 'data'."""
  return jax.tree.map(lambda x: jax.make_array_from_process_local_data(sharding, np.asarray(x)), local_batch)


def global_shape(local_batch: Any) -> Any:
  """ShapeDtypeStructs of the global batch that `to_global` would build from these local rows."""
  pc = jax.process_count()
  return jax.tree.map(lambda x: jax.ShapeDtypeStruct((x.shape[0] * pc,) + x.shape[1:], x.dtype), local_batch)


def local_rows(x: jax.Array) -> np.ndarray:
  """This process's rows of a batch-sharded array, in order (all rows on a single process)."""
  if x.is_fully_addressable:
    return np.asarray(jax.device_get(x))
  shards = sorted(x.addressable_shards, key=lambda s: s.index[0].start or 0)
  rows, seen = [], set()
  for s in shards:
    start = s.index[0].start or 0
    if start not in seen:  # Replicas of one row block live on several local devices: take it once.
      seen.add(start)
      rows.append(np.asarray(s.data))
  return np.concatenate(rows)
