"""FID Inception and LPIPS: loaders of PyTorch-named `.npz` weights (round trip, clear errors), LPIPS properties,
the Fréchet distance paths, and the `fid_lpips` evaluator on the EncryptGAN :tiny config (random weights throughout;
the match with pytorch-fid / lpips themselves was checked outside CI, see the modules' docstrings)."""

import chex
import jax
import numpy as np
import pytest

from configs import encryptgan_embedded
from jaxsteg import errors
from jaxsteg import train
from jaxsteg.evaluators import fid_lpips as fid
from jaxsteg.models import inception
from jaxsteg.models import lpips
from jaxsteg.tasks import encryptgan as task

CHUNK = 8   # The :tiny eval batch: the tests below reuse the executables that the evaluator compiles.


def _torch_state_dict(params: dict, torch_name) -> dict[str, np.ndarray]:
  """A Flax params tree as the PyTorch state_dict would hold it (kernels HWIO -> OIHW)."""
  out = {}
  for path, value in jax.tree_util.tree_flatten_with_path(params)[0]:
    value = np.asarray(value)
    out[torch_name(tuple(k.key for k in path))] = value.transpose(3, 2, 0, 1) if value.ndim == 4 else value
  return out


@pytest.fixture(scope="module")
def fid_file(tmp_path_factory):
  params = inception.random_params(0)
  sd = _torch_state_dict(params, inception._torch_name)  # pylint: disable=protected-access
  sd.update({"fc.weight": np.zeros((1008, 2048), np.float32), "fc.bias": np.zeros(1008, np.float32),
             "Conv2d_1a_3x3.bn.num_batches_tracked": np.array(0)})     # In the real file; ignored.
  path = str(tmp_path_factory.mktemp("fid") / "fid_inception.npz")
  np.savez(path, **sd)
  return path, params, sd


@pytest.fixture(scope="module")
def lpips_file(tmp_path_factory):
  params = lpips.random_params(1)
  sd = _torch_state_dict(params, lpips._torch_name)  # pylint: disable=protected-access
  path = str(tmp_path_factory.mktemp("lpips") / "lpips_vgg.npz")
  np.savez(path, **sd)
  return path, params, sd


def test_inception_loader_round_trips_the_pytorch_fid_names(fid_file):
  path, params, sd = fid_file
  assert sd["Conv2d_1a_3x3.conv.weight"].shape == (32, 3, 3, 3)                  # OIHW, as torchvision.
  assert sd["Mixed_7c.branch3x3dbl_3b.conv.weight"].shape == (384, 384, 3, 1)
  assert sd["Mixed_5b.branch1x1.bn.running_mean"].shape == (64,)
  assert len(sd) - 3 == 94 * 5                  # 94 BasicConv2d: conv weight + BN weight, bias, mean, var.
  loaded = inception.load_params(path)
  chex.assert_trees_all_equal(loaded, params)
  images = np.random.default_rng(0).uniform(0, 1, (CHUNK, 16, 16, 3)).astype(np.float32)
  ours = fid._inception_features(jax.device_put(loaded), images, size=75)  # pylint: disable=protected-access
  ref = fid._inception_features(jax.device_put(params), images, size=75)  # pylint: disable=protected-access
  assert ours.shape == (CHUNK, 2048) and np.isfinite(ours).all() and np.std(ours) > 0
  np.testing.assert_array_equal(ours, ref)
  with pytest.raises(ValueError, match="minimum 75"):
    inception.pool3_features(params, images, size=64)


def test_loaders_say_what_is_wrong(fid_file, lpips_file, tmp_path):
  with pytest.raises(FileNotFoundError, match="inception.py"):
    inception.load_params(str(tmp_path / "nope.npz"))
  with pytest.raises(FileNotFoundError, match="lpips.py"):
    lpips.load_params("")
  _, _, sd = fid_file
  path = str(tmp_path / "missing.npz")
  np.savez(path, **{k: v for k, v in sd.items() if k != "Mixed_6e.branch7x7_2.conv.weight"})
  with pytest.raises(ValueError, match="missing array 'Mixed_6e.branch7x7_2.conv.weight'"):
    inception.load_params(path)
  _, _, sd = lpips_file
  path = str(tmp_path / "hwio.npz")
  np.savez(path, **dict(sd, **{"features.0.weight": sd["features.0.weight"].transpose(2, 3, 1, 0)}))
  with pytest.raises(ValueError, match=r"features.0.weight has shape \(3, 3, 3, 64\), expected \(64, 3, 3, 3\)"):
    lpips.load_params(path)
  path = str(tmp_path / "single.npy")
  np.save(path, np.zeros(3))
  with pytest.raises(ValueError, match="not an .npz"):
    lpips.load_params(path)
  (tmp_path / "text.npz").write_text("not numpy")
  with pytest.raises(ValueError, match="not a NumPy .npz"):
    lpips.load_params(str(tmp_path / "text.npz"))


def test_lpips_is_zero_on_equal_images_symmetric_and_positive(lpips_file):
  path, params, sd = lpips_file
  assert sd["lin4.model.1.weight"].shape == (1, 512, 1, 1) and sd["features.28.bias"].shape == (512,)
  loaded = jax.device_put(lpips.load_params(path))
  chex.assert_trees_all_equal(loaded, params)
  rng = np.random.default_rng(0)
  a, b = (rng.uniform(0, 1, (CHUNK, 16, 16, 3)).astype(np.float32) for _ in range(2))
  d_ab = np.asarray(fid._lpips_distance(loaded, a, b))  # pylint: disable=protected-access
  d_ba = np.asarray(fid._lpips_distance(loaded, b, a))  # pylint: disable=protected-access
  d_aa = np.asarray(fid._lpips_distance(loaded, a, a))  # pylint: disable=protected-access
  assert d_ab.shape == (CHUNK,) and (d_ab > 1e-4).all()
  np.testing.assert_allclose(d_aa, 0.0, atol=1e-8)
  np.testing.assert_allclose(d_ab, d_ba, rtol=1e-5)
  with pytest.raises(ValueError, match="at least 16"):
    lpips.lpips_distance(params, a[:, :8, :8], b[:, :8, :8])


def test_frechet_distance_paths_agree_and_vanish_on_equal_sets():
  rng = np.random.default_rng(0)
  few = rng.standard_normal((12, 2048))
  assert fid.fid_value(few, few) == pytest.approx(0.0, abs=1e-8)      # N < D: the few-samples path.
  small_a, small_b = rng.standard_normal((40, 16)), rng.standard_normal((30, 16)) * 1.5 + 0.3
  assert fid.frechet_distance_few_samples(small_a, small_b) == pytest.approx(
      fid.frechet_distance(small_a, small_b), rel=1e-8)               # Full-rank: both exact.
  low_a, low_b = rng.standard_normal((10, 32)), rng.standard_normal((12, 32)) + 0.5
  assert fid.frechet_distance_few_samples(low_a, low_b) == pytest.approx(
      fid.frechet_distance(low_a, low_b), rel=1e-3)                   # Singular covariances: sqrtm is approximate.


def test_fid_lpips_evaluator_on_the_tiny_encryptgan(fid_file, lpips_file, tmp_path):
  config = encryptgan_embedded.get_config("tiny")
  assert config.eval.batch_size == CHUNK
  eval_set = task.eval_set(config)
  n = min(eval_set.length, config.evals.fid_lpips.num_examples)
  examples = eval_set.stacked(range(n))
  init = jax.jit(lambda key, batch: task.init_state(config, key, batch)["params"])   # Compiles the params only.
  params = jax.device_get(init(jax.random.key(0, impl=task.RNG_IMPL), task.dummy_batch(config, 1)))
  assert fid.fid_lpips(config, task, params, examples) == {}                      # No weights: skipped.
  config.evals.fid_lpips.image_size = 75
  config.evals.fid_lpips.fid_weights = "/nonexistent/fid.npz"
  with pytest.raises(errors.ConfigError, match=r"--config.evals.fid_lpips.fid_weights: .*fid.npz"):
    fid.fid_lpips(config, task, params, examples)
  workdir = tmp_path / "run"
  with pytest.raises(errors.ConfigError, match="fid_weights"):
    train.train_and_evaluate(config, str(workdir))      # Checked before training, not after it.
  assert not (workdir / "checkpoints").exists()
  config.evals.fid_lpips.fid_weights, config.evals.fid_lpips.lpips_weights = fid_file[0], lpips_file[0]
  out = fid.fid_lpips(config, task, params, examples)
  assert set(out) == {"fid_disguise", "fid_decrypted", "fid_num_images", "lpips_msg", "lpips_security",
                      "lpips_encryption"}
  assert all(isinstance(v, float) and np.isfinite(v) for v in out.values()), out
  assert out["fid_num_images"] == len(examples["x"]) == config.evals.fid_lpips.num_examples
  assert out["fid_disguise"] > 0 and out["fid_decrypted"] > 0
  assert all(out[k] >= 0 for k in ("lpips_msg", "lpips_security", "lpips_encryption"))
