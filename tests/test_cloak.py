"""ImageCloak: the text variant (text as a 28×28 image) and the image variant (VGG perceptual loss)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import cloak_image_imagenet224
from configs import cloak_text_embedded
from jaxsteg import errors
from jaxsteg import train
from jaxsteg.models import vgg
from jaxsteg.tasks import cloak_image
from jaxsteg.tasks import cloak_text


def test_text_image_round_trip():
  img = cloak_text.text_to_image("Hello, wörld!")
  assert img.shape == (28, 28, 1) and img.dtype == np.uint8
  assert cloak_text.image_to_text(img / 255.0) == "Hello, w?rld!"   # Non-ASCII -> '?', padding cut.
  long = "x" * 1000
  assert cloak_text.image_to_text(cloak_text.text_to_image(long) / 255.0) == "x" * 784
  # Decoding rounds to the nearest code and clips to printable ASCII.
  noisy = cloak_text.text_to_image("abc") / 255.0 + 0.4 / 255.0
  assert cloak_text.image_to_text(noisy) == "abc"
  assert cloak_text.image_to_text(np.zeros((28, 28, 1))) == ""


def test_corpus_split_and_eval_windows():
  train_codes, eval_codes = cloak_text.text_split("train"), cloak_text.text_split("eval")
  assert train_codes.size >= 8 * eval_codes.size > 0
  assert train_codes.min() >= 32 and train_codes.max() <= 126
  es = cloak_text.eval_set(cloak_text_embedded.get_config("tiny"))
  ex = es.example(1)
  assert ex["cover"].shape == (28, 28, 1) and ex["secret"].shape == (1, 28, 28, 1)
  assert not np.array_equal(ex["secret"], es.example(2)["secret"])


def test_text_variant_tiny_run_reports_character_accuracy(trained_tiny):
  _, _, means = trained_tiny("cloak_text_embedded")
  assert 0.0 <= means["char_accuracy"] <= 1.0
  assert {"container_psnr", "secret_psnr"} <= set(means)


def test_text_variant_fmnist_tiny_on_mock_data(trained_tiny):
  config, _, means = trained_tiny("cloak_text_fmnist")   # Trained under tfds.testing.mock_data.
  assert config.data.cover == "fashion_mnist" and config.data.channels == 1
  assert "char_accuracy" in means


def test_image_variant_refuses_to_start_without_weights(tmp_path):
  config = cloak_image_imagenet224.get_config()
  with pytest.raises(cloak_image.MissingWeightsError, match="needs VGG16 weights"):
    train.train_and_evaluate(config, str(tmp_path))
  config.loss.vgg_weights = str(tmp_path / "missing.npz")
  with pytest.raises(errors.ConfigError, match="vgg_weights: .*does not exist"):
    cloak_image.train_dataset(config)


def _save_npz(path, params, **changes):
  arrays = {f"{layer}/{k}": np.asarray(v) for layer, fields in params["params"].items() for k, v in fields.items()}
  arrays.update(changes)
  np.savez(path, **arrays)


def test_vgg_weights_file_round_trip_and_errors(tmp_path):
  params = vgg.random_params(jax.random.key(0))
  good = tmp_path / "vgg.npz"
  _save_npz(good, params)
  loaded = vgg.load_params(str(good))
  jax.tree.map(np.testing.assert_array_equal, jax.device_get(params), loaded)
  x = jnp.linspace(0, 1, 2 * 32 * 32 * 3).reshape(2, 32, 32, 3)
  assert vgg.VGG16Block3().apply(loaded, x).shape == (2, 8, 8, 256)
  bad = tmp_path / "bad.npz"
  _save_npz(bad, params, **{"block3_conv3/kernel": np.zeros((3, 3, 256, 128), np.float32)})
  with pytest.raises(ValueError, match="block3_conv3/kernel has shape"):
    vgg.load_params(str(bad))


def test_image_variant_tiny_run_with_random_vgg(trained_tiny):
  config, _, means = trained_tiny("cloak_image_imagenet224")
  assert config.loss.vgg_weights == "random" and config.data.crop == "letterbox"
  assert np.isfinite(means["container_psnr"]) and np.isfinite(means["secret_psnr"])


def test_image_variant_loss_has_the_perceptual_term():
  config = cloak_image_imagenet224.get_config("tiny")
  batch = cloak_image.dummy_batch(config, 2)
  state = cloak_image.init_state(config, jax.random.key(0), batch)
  batch = {"cover": jnp.full_like(batch["cover"], 100), "secret": jnp.full_like(batch["secret"], 30)}
  _, m = cloak_image.loss_fn(config, state["params"], state["vgg"], batch, jax.random.key(1))
  assert float(m["perceptual"]) > 0
  config.loss.perceptual_weight = 0.0
  _, m0 = cloak_image.loss_fn(config, state["params"], {}, batch, jax.random.key(1))
  assert "perceptual" not in m0
  assert float(m["loss"]) > float(m0["loss"])
