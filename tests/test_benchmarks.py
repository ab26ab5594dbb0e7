"""The benchmark harness runs, and its PyTorch reference is the same network as ours."""

import jax
import pytest

from benchmarks import train_step as bench
from configs import deepstego_embedded
from jaxsteg.tasks import deepstego


def test_jax_step_timing_reports_numbers():
  config = deepstego_embedded.get_config("tiny")
  r = bench.time_jax(config, size=16, batch=8, microbatches=1, steps=1)
  assert r["s_per_step"] > 0 and r["images_per_s"] > 0 and r["gflops"] > 0
  assert r["devices"] == 8


@pytest.mark.parametrize("arch", ["blog", "light", "fast"])
def test_torch_reference_has_the_same_parameter_count(arch):
  torch = pytest.importorskip("torch", reason="optional: pip install torch==2.13.0")
  from benchmarks import torch_reference  # pylint: disable=g-import-not-at-top
  config = deepstego_embedded.get_config(f"arch={arch},secrets=2")
  state = jax.eval_shape(lambda r, b: deepstego.init_state(config, r, b), jax.random.key(0),
                         deepstego.dummy_batch(config, 1, 16))
  n_jax = sum(x.size for x in jax.tree.leaves(state["params"]))
  n_torch = sum(p.numel() for p in torch_reference._build(config, torch).parameters())  # pylint: disable=protected-access
  assert n_jax == n_torch


def test_input_pipeline_benchmark_prints_every_dataset(capsys):
  from benchmarks import input_pipeline  # pylint: disable=g-import-not-at-top
  input_pipeline.main(["--config", "configs/deepstego_embedded.py:tiny", "--datasets", "embedded", "svhn_cropped",
                       "--batches", "2", "--skip_step"])
  out = capsys.readouterr().out
  rows = {line.split()[0]: line.split()[1] for line in out.splitlines()[2:]}
  assert set(rows) == {"embedded", "svhn_cropped"} and all(float(v) > 0 for v in rows.values())
