"""ImageCloak: the text variant (a 28×28 character matrix, class head) and the image variant (VGG perceptual loss)."""

import json

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


def test_text_class_matrix_round_trip():
  assert cloak_text.NUM_CLASSES == 96   # Padding + printable ASCII 32..126.
  classes = cloak_text.text_to_classes("Hello,\twörld!")
  assert classes.shape == (28, 28) and classes.dtype == np.int32
  assert (classes > 0).sum() == 13 and (classes[0, 13:] == 0).all() and (classes[1:] == 0).all()
  assert cloak_text.classes_to_text(classes) == "Hello, w?rld!"   # Non-ASCII -> '?', control -> ' ', padding cut.
  assert cloak_text.classes_to_text(np.eye(96)[classes]) == "Hello, w?rld!"   # Logits: argmax per cell.
  text = "".join(chr(32 + i % 95) for i in range(1000))
  assert cloak_text.classes_to_text(cloak_text.text_to_classes(text)) == text[:784]
  codes = np.array([0, *range(32, 127)], np.uint8)
  assert np.array_equal(cloak_text.codes_to_classes(codes), np.arange(96))
  assert np.array_equal(cloak_text.classes_to_codes(jnp.arange(96)), codes)   # Also on jax arrays.
  assert cloak_text.classes_to_text(np.zeros((28, 28), np.int32)) == ""


def test_regression_reading_rounds_grey_levels():
  grey = np.where(cloak_text.text_to_codes("abc") == 0, 32, cloak_text.text_to_codes("abc")) / 255.0
  assert cloak_text.image_to_text(grey + 0.4 / 255.0) == "abc"
  assert cloak_text.image_to_text(np.zeros((28, 28, 1))) == ""


def test_corpus_split_by_topic_and_eval_messages():
  train_topics, eval_topics = cloak_text.topic_names("train"), cloak_text.topic_names("eval")
  assert eval_topics and not set(train_topics) & set(eval_topics)
  train_codes, eval_codes = cloak_text.text_split("train"), cloak_text.text_split("eval")
  assert train_codes.size >= 3 * eval_codes.size > 20 * 784
  assert train_codes.min() >= 32 and train_codes.max() <= 126
  config = cloak_text_embedded.get_config("tiny")
  es = cloak_text.eval_set(config)
  ex = es.example(1)
  assert ex["cover"].shape == (28, 28, 1) and ex["secret"].shape == (1, 28, 28, 1)
  assert ex["secret"].min() >= 32   # Held-out messages are full: every cell is a character.
  assert not np.array_equal(ex["secret"], es.example(2)["secret"])
  batch = cloak_text.train_dataset(config)[0]
  assert batch["secret"].shape == (8, 1, 28, 28, 1) and batch["cover"].shape == (8, 28, 28, 1)
  assert set(np.unique(batch["secret"])) <= {0, *range(32, 127)}


@pytest.mark.parametrize("head", ["class", "regress"])
def test_heads_train_and_evaluate(head):
  config = cloak_text_embedded.get_config(f"tiny,head={head}")
  batch = jax.tree.map(jnp.asarray, cloak_text.train_dataset(config)[0])
  state = cloak_text.init_state(config, jax.random.key(0), batch)
  state, m = jax.jit(lambda s, b: cloak_text.train_step(config, s, b))(state, batch)
  assert np.isfinite(float(m["loss"]))
  if head == "class":
    assert 0.0 <= float(m["char_accuracy"]) <= 1.0 and float(m["cross_entropy"]) > 0
  out, images = jax.jit(lambda s, b: cloak_text.eval_step(config, s, b))(state, batch)
  assert out["char_accuracy"].shape == out["exact_match"].shape == out["container_psnr"].shape == (8,)
  assert ((0 <= out["char_accuracy"]) & (out["char_accuracy"] <= 1)).all()
  assert images["revealed_0"].shape == images["container"].shape[:1] + (28, 28, 1)


def test_unknown_head_is_a_config_error():
  config = cloak_text_embedded.get_config("tiny,head=bytes")
  with pytest.raises(errors.ConfigError, match="model.head must be one of class, regress"):
    cloak_text.init_state(config, jax.random.key(0), cloak_text.dummy_batch(config, 8))


def test_text_variant_tiny_run_reports_character_accuracy(trained_tiny):
  config, workdir, means = trained_tiny("cloak_text_embedded")
  assert config.model.head == "class"
  for name in ("char_accuracy", "exact_match", "container_ssim"):
    assert 0.0 <= means[name] <= 1.0, name
  assert np.isfinite(means["container_psnr"]) and means["cross_entropy"] > 0
  with open(f"{workdir}/metrics.jsonl", encoding="utf-8") as f:
    rows = [json.loads(line) for line in f]
  train_rows = [r for r in rows if "train/char_accuracy" in r]
  assert train_rows and all(np.isfinite(r["train/loss"]) for r in train_rows)


def test_text_variant_fmnist_tiny_on_mock_data(trained_tiny):
  config, _, means = trained_tiny("cloak_text_fmnist")   # Trained under tfds.testing.mock_data.
  assert config.data.cover == "fashion_mnist" and config.data.channels == 1
  assert 0.0 <= means["char_accuracy"] <= 1.0 and np.isfinite(means["container_psnr"])


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
