r"""Speed of configs' train steps: seconds/step, images/s and achieved GFLOP/s (XLA's FLOP count).

  python benchmarks/train_step.py --config configs/deepstego_embedded.py:arch=blog --size 32 --batch 8 32 \
      [--microbatches 1 4] [--cpu_devices 2] [--torch]

`--torch` also times the PyTorch reference of the same network and train step (benchmarks/torch_reference.py:
Deep Steganography and invertible configs; needs `pip install torch==2.13.0`) and prints the ratio. Each setting
is timed after a warm-up (compilation excluded). Images/s counts (cover, secrets) examples per second. On a CPU
shared with other work, PyTorch's default threads can be many times slower than one (`--torch_threads 1`).

Several `--config`s are timed at the same sizes and printed as one table, a row per (config, batch, framework)
with the torch/jax ratio on the PyTorch rows, e.g. both families side by side:
  python benchmarks/train_step.py --config configs/deepstego_embedded.py --config configs/invertible_embedded.py \
      --size 32 --batch 16 --cpu_devices 2 --torch
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse_args(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("--config", action="append", default=None,
                 help="config file[:arg]; repeat to time several (default configs/deepstego_embedded.py:arch=blog)")
  p.add_argument("--size", type=int, default=32, help="training image size")
  p.add_argument("--batch", type=int, nargs="+", default=[8, 32])
  p.add_argument("--microbatches", type=int, nargs="+", default=[1],
                 help="micro-batches per device step to try (the best is reported)")
  p.add_argument("--cpu_devices", type=int, default=0, help="host CPU devices (data-parallel shards); 0: as is")
  p.add_argument("--steps", type=int, default=3, help="timed steps per setting")
  p.add_argument("--torch", action="store_true", help="also time the PyTorch reference")
  p.add_argument("--torch_threads", type=int, default=0, help="torch.set_num_threads; 0: torch's default")
  args = p.parse_args(argv)
  args.config = args.config or ["configs/deepstego_embedded.py:arch=blog"]
  return args


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


def model_label(config) -> str:
  """The config's network in a few words (Deep Steganography: its arch)."""
  m = config.model
  if "arch" in m:
    return f"arch={m.arch}"
  if config.task == "invertible":
    return f"blocks={m.blocks},growth={m.growth}"
  return f"task={config.task}"


def measure(config, args, batch: int):
  """Rows (dicts: framework, s_per_step, images_per_s, gflops, and compile_s on JAX's, ratio on PyTorch's) for
  one batch size, yielded as they are timed: JAX at each micro-batch count, then the PyTorch reference."""
  import jax  # pylint: disable=g-import-not-at-top
  best = None
  for mb in args.microbatches:
    if batch % (mb * jax.device_count()):
      continue
    r = time_jax(config, args.size, batch, mb, args.steps)
    yield dict(r, framework=f"jax ({r['devices']} dev, {mb} micro)")
    if best is None or r["s_per_step"] < best["s_per_step"]:
      best = r
  if not args.torch:
    return
  from benchmarks import torch_reference  # pylint: disable=g-import-not-at-top
  if config.task not in torch_reference.TASKS:
    yield {"framework": f"pytorch: no reference for {config.task}"}
    return
  t = torch_reference.time_torch(config, args.size, batch, args.steps, args.torch_threads)
  s = t["s_per_step"]
  yield {"framework": "pytorch " + t["version"], "s_per_step": s, "images_per_s": batch / s,
         "gflops": best["gflops"] * best["s_per_step"] / s if best else float("nan"),
         "ratio": s / best["s_per_step"] if best else None}


def _numbers(row: dict) -> str:
  if "s_per_step" not in row:
    return f"{'-':>8} {'-':>8} {'-':>8}"
  return f"{row['s_per_step']:>8.3f} {row['images_per_s']:>8.1f} {row['gflops']:>8.1f}"


def print_one(config, args) -> None:
  """One config: a row per (batch, framework), then the torch/jax ratio on a row of its own."""
  for batch in args.batch:
    for row in measure(config, args, batch):
      line = f"{batch:>5} {row['framework']:<28} {_numbers(row)}"
      if "compile_s" in row:
        line += f"   (compile {row['compile_s']:.1f}s)"
      print(line, flush=True)
      if row.get("ratio") is not None:
        print(f"{batch:>5} {'ratio torch/jax (>1: jax faster)':<28} {row['ratio']:>8.2f}")


def print_table(configs: dict, args) -> None:
  """Several configs: one table, a row per (config, batch, framework), torch/jax on the PyTorch rows."""
  width = max(len(spec) for spec in configs)
  print(f"{'config':<{width}} {'model':<20} {'batch':>5} {'framework':<28} {'s/step':>8} {'img/s':>8} "
        f"{'GFLOP/s':>8} {'torch/jax':>9}")
  for spec, config in configs.items():
    for batch in args.batch:
      for row in measure(config, args, batch):
        ratio = f"{row['ratio']:>9.2f}" if row.get("ratio") is not None else f"{'':>9}"
        print(f"{spec:<{width}} {model_label(config):<20} {batch:>5} {row['framework']:<28} {_numbers(row)} "
              f"{ratio}", flush=True)
  print("torch/jax: PyTorch's s/step over JAX's best (>1: JAX faster)")


def main(argv=None):
  args = parse_args(argv)
  import jax  # pylint: disable=g-import-not-at-top
  if args.cpu_devices:
    jax.config.update("jax_num_cpu_devices", args.cpu_devices)
  configs = {spec: load_config(spec) for spec in args.config}
  where = (f"JAX {jax.__version__} on {jax.device_count()} {jax.default_backend()} device(s), "
           f"{os.cpu_count()} cores")
  if len(configs) == 1:
    (spec, config), = configs.items()
    print(f"config {spec}  {model_label(config)}  size={args.size}  {where}")
    print(f"{'batch':>5} {'framework':<28} {'s/step':>8} {'img/s':>8} {'GFLOP/s':>8}")
    print_one(config, args)
  else:
    print(f"size={args.size}  {where}")
    print_table(configs, args)


if __name__ == "__main__":
  main()
