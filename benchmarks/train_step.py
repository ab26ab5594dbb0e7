r"""Speed of one config's train step: seconds/step, images/s and achieved GFLOP/s (XLA's FLOP count).

  python benchmarks/train_step.py --config configs/deepstego_embedded.py:arch=blog --size 32 --batch 8 32 \
      [--microbatches 1 4] [--cpu_devices 2] [--torch]

`--torch` also times the PyTorch reference of the same architecture (benchmarks/torch_reference.py; needs
`pip install torch==2.13.0`) and prints the ratio. Each setting is timed after a warm-up (compilation excluded).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse_args(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("--config", default="configs/deepstego_embedded.py:arch=blog")
  p.add_argument("--size", type=int, default=32, help="training image size")
  p.add_argument("--batch", type=int, nargs="+", default=[8, 32])
  p.add_argument("--microbatches", type=int, nargs="+", default=[1],
                 help="micro-batches per device step to try (the best is reported)")
  p.add_argument("--cpu_devices", type=int, default=0, help="host CPU devices (data-parallel shards); 0: as is")
  p.add_argument("--steps", type=int, default=3, help="timed steps per setting")
  p.add_argument("--torch", action="store_true", help="also time the PyTorch reference")
  p.add_argument("--torch_threads", type=int, default=0, help="torch.set_num_threads; 0: torch's default")
  return p.parse_args(argv)


def load_config(spec: str):
  from ml_collections import config_flags  # pylint: disable=g-import-not-at-top
  path, _, arg = spec.partition(":")
  module = config_flags.config_flags._LoadConfigModule("bench_config", path)  # pylint: disable=protected-access
  return module.get_config(arg or None)


def time_jax(config, size: int, batch: int, microbatches: int, steps: int) -> dict:
  import jax  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  from jaxsteg import setup as setup_lib, sharding, tasks, train  # pylint: disable=g-import-not-at-top,multiple-imports
  config = config.copy_and_resolve_references()
  config.batch_size, config.microbatches = batch, microbatches
  config.data.image_size = size
  task = tasks.get_task(config.task)
  rng = np.random.default_rng(0)
  example = jax.tree.map(lambda x: rng.integers(0, 256, x.shape, dtype=np.uint8),
                         task.dummy_batch(config, batch, size))
  setup = setup_lib.make_setup(config, example)
  sharding.check_batch_size(batch, setup.mesh)
  state = jax.jit(setup.init_fn, out_shardings=setup.state_sharding)(
      jax.random.key(0), sharding.to_global(example, setup.batch_sharding))
  step = train.make_train_step(config, setup, max_traces=None)
  gbatch = sharding.to_global(example, setup.batch_sharding)
  with jax.set_mesh(setup.mesh):
    t0 = time.perf_counter()
    compiled = step.lower(state, gbatch).compile()
    compile_s = time.perf_counter() - t0
    cost = compiled.cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    flops = float(cost.get("flops", 0.0)) if cost else 0.0
    state, m = step(state, gbatch)   # Warm-up.
    jax.block_until_ready(m)
    t0 = time.perf_counter()
    for _ in range(steps):
      state, m = step(state, gbatch)
      jax.block_until_ready(m)   # As the train loop does on multi-device CPU (see train.py).
    dt = (time.perf_counter() - t0) / steps
  # XLA's cost analysis of an SPMD program counts one device's share: scale to the whole step.
  flops *= setup.mesh.devices.size
  return {"s_per_step": dt, "images_per_s": batch / dt, "gflops": flops / dt / 1e9, "compile_s": compile_s,
          "devices": setup.mesh.devices.size}


def main(argv=None):
  args = parse_args(argv)
  import jax  # pylint: disable=g-import-not-at-top
  if args.cpu_devices:
    jax.config.update("jax_num_cpu_devices", args.cpu_devices)
  config = load_config(args.config)
  arch = config.model.arch
  print(f"config {args.config}  arch={arch}  size={args.size}  JAX {jax.__version__} on {jax.device_count()} "
        f"{jax.default_backend()} device(s), {os.cpu_count()} cores")
  header = f"{'batch':>5} {'framework':<28} {'s/step':>8} {'img/s':>8} {'GFLOP/s':>8}"
  print(header)
  for batch in args.batch:
    best = None
    for mb in args.microbatches:
      if batch % (mb * jax.device_count()):
        continue
      r = time_jax(config, args.size, batch, mb, args.steps)
      label = f"jax ({r['devices']} dev, {mb} micro)"
      print(f"{batch:>5} {label:<28} {r['s_per_step']:>8.3f} {r['images_per_s']:>8.1f} {r['gflops']:>8.1f}"
            f"   (compile {r['compile_s']:.1f}s)", flush=True)
      if best is None or r["s_per_step"] < best["s_per_step"]:
        best = r
    if args.torch:
      from benchmarks import torch_reference  # pylint: disable=g-import-not-at-top
      t = torch_reference.time_torch(config, args.size, batch, args.steps, args.torch_threads)
      gflops = best["gflops"] * best["s_per_step"] / t["s_per_step"] if best else float("nan")
      print(f"{batch:>5} {'pytorch ' + t['version']:<28} {t['s_per_step']:>8.3f} {batch / t['s_per_step']:>8.1f} "
            f"{gflops:>8.1f}", flush=True)
      if best:
        print(f"{batch:>5} {'ratio torch/jax (>1: jax faster)':<28} {t['s_per_step'] / best['s_per_step']:>8.2f}")


if __name__ == "__main__":
  main()
