r"""Input throughput: images/s each dataset's training pipeline delivers, beside what the train step consumes.

  python benchmarks/input_pipeline.py --config configs/deepstego_stl10.py --batches 20
  python benchmarks/input_pipeline.py --datasets stl10 celeb_a --data_dir /data/tensorflow_datasets --size 96

Without --data_dir the TFDS datasets are served by `tfds.testing.mock_data` (random records of each dataset's
real shapes: the decoding, cropping and augmentation work is real, the storage reads are not). A pipeline row
below the train-step row means the accelerator would wait for data: raise `threads`, simplify augmentation,
or pre-resize the dataset.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse_args(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("--config", default="configs/deepstego_stl10.py", help="config whose pipeline and step to time")
  p.add_argument("--datasets", nargs="+", default=None,
                 help="cover datasets to time (default: every registry dataset)")
  p.add_argument("--data_dir", default=None, help="prepared TFDS data; default: mock data")
  p.add_argument("--size", type=int, default=0, help="training image size (default: the config's)")
  p.add_argument("--batch", type=int, default=0, help="global batch (default: the config's)")
  p.add_argument("--batches", type=int, default=10, help="timed batches per dataset (after one warm-up)")
  p.add_argument("--threads", type=int, default=2, help="grain read threads")
  p.add_argument("--skip_step", action="store_true", help="do not time the train step")
  return p.parse_args(argv)


def time_pipeline(config, batches: int, threads: int) -> dict:
  """Images/s of `config`'s training pipeline on this process (one warm-up batch excluded)."""
  import grain  # pylint: disable=g-import-not-at-top
  from jaxsteg import tasks  # pylint: disable=g-import-not-at-top
  ds = tasks.get_task(config.task).train_dataset(config)
  it = iter(ds.to_iter_dataset(grain.ReadOptions(num_threads=threads, prefetch_buffer_size=4)))
  first = next(it)
  rows = len(next(iter(first.values())))
  t0 = time.perf_counter()
  for _ in range(batches):
    next(it)
  dt = time.perf_counter() - t0
  return {"images_per_s": rows * batches / dt, "s_per_batch": dt / batches, "rows": rows}


def main(argv=None) -> None:
  args = parse_args(argv)
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  from benchmarks import train_step  # pylint: disable=g-import-not-at-top
  from jaxsteg.data import datasets  # pylint: disable=g-import-not-at-top
  config = train_step.load_config(args.config)
  if args.size:
    config.data.image_size = args.size
  if args.batch:
    config.batch_size = args.batch
  names = args.datasets or sorted(datasets.SPECS)
  source = args.data_dir or "mock data (tfds.testing.mock_data)"
  print(f"config {args.config}: batch {config.batch_size}, {config.data.image_size}px, "
        f"{args.threads} read threads, {os.cpu_count()} cores; TFDS from {source}")
  print(f"{'pipeline (cover = secret dataset)':<36} {'img/s':>9} {'ms/batch':>9}")
  for name in names:
    cfg = config.copy_and_resolve_references()
    cfg.data.cover = cfg.data.secret = name
    if args.data_dir:
      cfg.data.data_dir = args.data_dir
    mock = (tfds.testing.mock_data(num_examples=256, policy=tfds.testing.MockPolicy.USE_CODE)
            if not args.data_dir and datasets.get_spec(name).tfds_name else contextlib.nullcontext())
    with mock:
      try:
        r = time_pipeline(cfg, args.batches, args.threads)
      except FileNotFoundError as e:
        print(f"{name:<36} {'n/a':>9}  ({str(e).splitlines()[0][:90]})")
        continue
    print(f"{name:<36} {r['images_per_s']:>9.1f} {1e3 * r['s_per_batch']:>9.1f}", flush=True)
  if not args.skip_step:
    import jax  # pylint: disable=g-import-not-at-top
    s = train_step.time_jax(config, config.data.image_size, config.batch_size, config.microbatches, steps=3)
    label = f"train step ({s['devices']} {jax.default_backend()} dev)"
    print(f"{label:<36} {s['images_per_s']:>9.1f} {1e3 * s['s_per_step']:>9.1f}   <- what the step consumes")


if __name__ == "__main__":
  main()
