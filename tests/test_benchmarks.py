"""The benchmark harness runs, and its PyTorch references are the same networks as ours."""

import jax
import numpy as np
import pytest

from benchmarks import train_step as bench
from configs import deepstego_embedded
from configs import invertible_embedded
from jaxsteg.models import invertible as invertible_models
from jaxsteg.tasks import deepstego
from jaxsteg.tasks import invertible


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


@pytest.mark.parametrize("arg", ["tiny", "blocks=4,growth=16", "blocks=16,growth=32"])
def test_torch_invertible_port_has_the_same_parameter_count(arg):
  torch = pytest.importorskip("torch", reason="optional: pip install torch==2.13.0")
  from benchmarks import torch_reference  # pylint: disable=g-import-not-at-top
  config = invertible_embedded.get_config(arg)
  state = jax.eval_shape(lambda r, b: invertible.init_state(config, r, b), jax.random.key(0),
                         invertible.dummy_batch(config, 1, 16))
  n_jax = sum(x.size for x in jax.tree.leaves(state["params"]))
  n_torch = sum(p.numel() for p in torch_reference._build(config, torch).parameters())  # pylint: disable=protected-access
  assert n_jax == n_torch


def test_torch_invertible_port_computes_what_the_jax_network_does():
  """With the JAX network's weights copied in, the port hides and reveals to the same bands, and its Haar
  transform is the same."""
  torch = pytest.importorskip("torch", reason="optional: pip install torch==2.13.0")
  from benchmarks import torch_invertible  # pylint: disable=g-import-not-at-top
  config = invertible_embedded.get_config("tiny")
  net = invertible.network(config, zero_init=False)
  rng = np.random.default_rng(0)
  cover, secret, z = (rng.random((2, 16, 16, 3), np.float32) for _ in range(3))
  params = net.init(jax.random.key(0), invertible_models.dwt(cover), invertible_models.dwt(secret))
  port = torch_invertible.build(config)
  for i, layer in enumerate(port.layers):
    for name in ("phi", "rho", "eta"):
      for j, conv in enumerate(getattr(layer, name).convs):
        p = params["params"][f"layers_{i}"][name][f"Conv_{j}"]
        conv.weight.data = torch.from_numpy(np.asarray(p["kernel"]).transpose(3, 2, 0, 1).copy())
        conv.bias.data = torch.from_numpy(np.asarray(p["bias"]).copy())
  nchw = lambda x: torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
  nhwc = lambda t: t.detach().numpy().transpose(0, 2, 3, 1)
  np.testing.assert_allclose(nhwc(torch_invertible.dwt(nchw(cover))), invertible_models.dwt(cover), atol=1e-6)
  np.testing.assert_allclose(nhwc(torch_invertible.iwt(torch_invertible.dwt(nchw(cover)))), cover, atol=1e-6)
  y1, r = net.apply(params, invertible_models.dwt(cover), invertible_models.dwt(secret))
  t1, tr = port(torch_invertible.dwt(nchw(cover)), torch_invertible.dwt(nchw(secret)))
  np.testing.assert_allclose(nhwc(t1), y1, atol=1e-4)
  np.testing.assert_allclose(nhwc(tr), r, atol=1e-4)
  zb = invertible_models.dwt(z)
  _, s = net.apply(params, y1, zb, method=invertible_models.InvertibleHider.inverse)
  _, ts = port.inverse(t1, torch_invertible.dwt(nchw(z)))
  np.testing.assert_allclose(nhwc(ts), s, atol=1e-4)


def test_one_command_times_both_families_in_one_table(capsys):
  pytest.importorskip("torch", reason="optional: pip install torch==2.13.0")
  bench.main(["--config", "configs/deepstego_embedded.py:tiny", "--config", "configs/invertible_embedded.py:tiny",
              "--size", "16", "--batch", "8", "--steps", "1", "--torch", "--torch_threads", "1"])
  lines = capsys.readouterr().out.splitlines()
  rows = [line.split() for line in lines if line.startswith("configs/")]
  assert [(r[0], r[3]) for r in rows] == [(c, f) for c in ("configs/deepstego_embedded.py:tiny",
                                                           "configs/invertible_embedded.py:tiny")
                                          for f in ("jax", "pytorch")]
  assert all(float(r[-1]) > 0 for r in rows if r[3] == "pytorch")


def test_input_pipeline_benchmark_prints_every_dataset(capsys):
  from benchmarks import input_pipeline  # pylint: disable=g-import-not-at-top
  input_pipeline.main(["--config", "configs/deepstego_embedded.py:tiny", "--datasets", "embedded", "svhn_cropped",
                       "--batches", "2", "--skip_step"])
  out = capsys.readouterr().out
  rows = {line.split()[0]: line.split()[1] for line in out.splitlines()[2:]}
  assert set(rows) == {"embedded", "svhn_cropped"} and all(float(v) > 0 for v in rows.values())
