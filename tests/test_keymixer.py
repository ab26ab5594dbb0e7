"""KeyMixer: networks, keys (scrypt → key tensor), configs, the loss, and both key modes trained at :tiny."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import keymixer_embedded
from configs import keymixer_stl10
from jaxsteg import keys
from jaxsteg import train
from jaxsteg.models import keymixer as models
from jaxsteg.tasks import keymixer as task


def test_tile_key_repeats_from_the_top_left_corner():
  key = jnp.arange(2 * 2 * 1, dtype=jnp.float32).reshape(2, 2, 1)
  t = models.tile_key(key, 3, 5)
  assert t.shape == (3, 5, 1)
  np.testing.assert_array_equal(t[..., 0], [[0, 1, 0, 1, 0], [2, 3, 2, 3, 2], [0, 1, 0, 1, 0]])
  assert models.tile_key(jnp.stack([key, key]), 4, 4).shape == (2, 4, 4, 1)


@pytest.mark.parametrize("arch", ["fast", "spec"])
def test_networks_shapes(arch):
  config = keymixer_embedded.get_config(f"tiny,arch={arch}")
  batch = task.dummy_batch(config, 2, size=8)
  nets = task.networks(config)
  cover, secret = task._to_float(batch)  # pylint: disable=protected-access
  key = jnp.ones(task.key_shape(config))

  def run(rng):
    params = task.init_state(config, rng, batch)["params"]
    container, mixed = task.hide(nets, params, cover, secret, key)
    return container, mixed, task.reveal(nets, params, container, key)

  container, mixed, revealed = jax.jit(run)(jax.random.key(0))   # One compiled program: fast on CPU.
  assert container.shape == mixed.shape == revealed.shape == (2, 8, 8, 3)
  assert float(mixed.min()) >= 0.0 and float(mixed.max()) <= 1.0


def test_signflip_init_makes_the_mixed_secret_depend_on_the_key():
  config = keymixer_embedded.get_config("tiny")
  state = jax.jit(lambda r: task.init_state(config, r, task.dummy_batch(config, 1, size=8)))(jax.random.key(0))
  nets = task.networks(config)
  secret = jnp.full((1, 8, 8, 3), 0.9)
  k = jnp.full(task.key_shape(config), 3.0)
  up = task.mix(nets, state["params"], secret, k)
  down = task.mix(nets, state["params"], secret, -k)
  assert float(up.mean()) > 0.75 and float(down.mean()) < 0.25   # σ(±4·0.4·tanh 3).


def test_scrypt_matches_the_rfc_7914_vector():
  # RFC 7914 §12: scrypt("password", "NaCl", N=1024, r=8, p=16); the first 32 of its 64 bytes.
  out = keys.derive_bytes("password", "NaCl", n=1024, r=8, p=16)
  assert out.hex() == "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"


def test_key_tensor_is_deterministic_and_uses_every_bit():
  kdf = keys.derive_bytes("correct horse", "salt", n=2**10)
  a = keys.key_tensor_from_bytes(kdf, (4, 4, 3), 2.0)
  np.testing.assert_array_equal(a, keys.key_tensor_from_bytes(kdf, (4, 4, 3), 2.0))
  assert a.shape == (4, 4, 3) and 1.0 < float(jnp.std(a)) < 3.0
  for bit in (0, 100, 255):   # words 0, 3 and 7 of the KDF output
    b = keys.key_tensor_from_bytes(keys.flip_bit(kdf, bit), (4, 4, 3), 2.0)
    assert float(jnp.mean(jnp.sign(a) != jnp.sign(b))) > 0.2
  assert keys.derive_bytes("correct horse", "other salt", n=2**10) != kdf
  assert keys.derive_bytes("correct horse", "salt", n=2**10) == kdf
  # NFC normalisation: the same text typed two ways gives the same key.
  assert keys.derive_bytes("caf\u00e9", "s", n=2**10) == keys.derive_bytes("cafe\u0301", "s", n=2**10)
  with pytest.raises(ValueError, match="empty"):
    keys.derive_bytes("", "salt")


def test_flip_bit_hand_case():
  assert keys.flip_bit(b"\x00\x01", 0) == b"\x01\x01"
  assert keys.flip_bit(b"\x00\x01", 8) == b"\x00\x00"
  assert keys.flip_bit(b"\x00\x01", 15) == b"\x00\x81"


def test_configs():
  c = keymixer_stl10.get_config()
  assert (c.data.cover, c.data.secret, c.data.image_size, c.data.eval_size) == ("stl10", "stl10", 96, 96)
  assert c.data.flip and c.data.rotate_degrees == 10.0 and c.model.arch == "spec"
  assert c.model.key_mode == "passphrase" and c.loss.wrong_key_weight > 0
  t = keymixer_embedded.get_config("mode=trainable,steps=7")
  assert t.model.key_mode == "trainable" and t.loss.wrong_key_weight == 0 and t.num_train_steps == 7
  assert keymixer_embedded.get_config().data.rotate_degrees == 0.0
  with pytest.raises(ValueError, match="mode"):
    keymixer_embedded.get_config("mode=secret")
  assert keymixer_stl10.get_config("tiny").data.image_size == 16


def test_trainable_mode_key_flip_is_the_sign_bit():
  config = keymixer_embedded.get_config("tiny,mode=trainable")
  state = jax.jit(lambda r: task.init_state(config, r, task.dummy_batch(config, 1, size=8)))(jax.random.key(0))
  k = task.analysis_keys(config, state["params"], None, 3)
  right, flipped = np.asarray(k["right"]), np.asarray(k["flipped"])
  assert flipped[0, 0, 0] == -right[0, 0, 0]
  assert np.sum(right != flipped) == 1 and k["wrong"].shape == (3,) + right.shape
  with pytest.raises(ValueError, match="takes no passphrase"):
    task.key_for_use(config, state["params"], "pw")


def test_passphrase_mode_keys():
  config = keymixer_embedded.get_config("tiny")
  k = task.analysis_keys(config, {}, "pw", 3)
  np.testing.assert_array_equal(k["right"], task.key_for_use(config, {}, "pw"))
  assert not np.allclose(k["right"], k["flipped"]) and k["wrong"].shape[0] == 3
  with pytest.raises(ValueError, match="needs a passphrase"):
    task.key_for_use(config, {}, None)


def _metrics_and_report(workdir, step):
  with open(os.path.join(workdir, "eval", str(step), "metrics.json"), encoding="utf-8") as f:
    metrics = json.load(f)["metrics"]
  sec = os.path.join(workdir, "eval", str(step), "security")
  assert sorted(os.listdir(sec)) == ["correlation.png", "histograms.png", "security.json", "security.md"]
  with open(os.path.join(sec, "security.json"), encoding="utf-8") as f:
    report = json.load(f)
  with open(os.path.join(sec, "security.md"), encoding="utf-8") as f:
    md = f.read()
  return metrics, report, md


@pytest.mark.parametrize("mode", ["passphrase", "trainable"])
def test_both_key_modes_train_at_tiny_and_write_the_security_report(mode, tmp_path, trained_tiny):
  if mode == "passphrase":   # The config's default mode: the session's shared :tiny run (4 steps).
    config, workdir, means = trained_tiny("keymixer_embedded")
    assert config.model.key_mode == mode
  else:
    config = keymixer_embedded.get_config(f"tiny,mode={mode}")
    config.num_train_steps = 2
    workdir = str(tmp_path)
    means = train.train_and_evaluate(config, workdir)
  for name in ("container_psnr", "secret_psnr", "wrong_key_psnr", "security/wrong_key_psnr",
               "security/key_flip_npcr", "security/mixed_secret_entropy", "security/container_npcr_1px"):
    assert np.isfinite(means[name]), name
  metrics, report, md = _metrics_and_report(workdir, config.num_train_steps)
  assert metrics["security/num_wrong_keys"] == 20
  assert report["key_mode"] == mode and report["keys"]["num_wrong_keys"] == 20
  assert report["ideal"]["npcr"] == pytest.approx(99.6094, abs=1e-4)
  assert "| 99.61 |" in md and "| 33.46 |" in md and "8.0000" in md and "n/a" not in md.split("| statistic")[1]
  if mode == "trainable":
    assert "sign bit" in report["keys"]["flip_note"]
  else:
    assert "scrypt" in report["keys"]["flip_note"]


def test_security_analysis_of_an_unkeyed_deepstego_model_says_na(tmp_path):
  """Any family that hides images: deepstego (untrained weights suffice to exercise the path)."""
  from configs import deepstego_embedded  # pylint: disable=g-import-not-at-top
  from jaxsteg.evaluators import security  # pylint: disable=g-import-not-at-top
  from jaxsteg.tasks import deepstego  # pylint: disable=g-import-not-at-top
  config = deepstego_embedded.get_config("tiny")
  state = deepstego.init_state(config, jax.random.key(0), deepstego.dummy_batch(config, 1))
  out = security.analyse(config, deepstego, state["params"], deepstego.eval_set(config), tmp_path, step=0)
  assert "security/container_psnr" in out and "security/wrong_key_psnr" not in out
  md = (tmp_path / "security.md").read_text(encoding="utf-8")
  assert "| Wrong keys: mean PSNR(S, S'_wrong) (dB) | n/a |" in md and "deepstego" in md


def test_security_entry_point_errors(tmp_path, capsys):
  from jaxsteg import security  # pylint: disable=g-import-not-at-top
  workdir = tmp_path / "run"
  workdir.mkdir()
  (workdir / "config.json").write_text(json.dumps({"task": "deepstego", "model": {"num_secrets": 1}}))
  assert security.main(["--workdir", str(workdir), "--passphrase-file", __file__]) == 2
  assert "takes no passphrase" in capsys.readouterr().err
  assert security.main(["--workdir", str(workdir)]) == 2
  assert "no checkpoint" in capsys.readouterr().err
  assert security.main(["--workdir", str(tmp_path / "none")]) == 2
  assert "does not exist" in capsys.readouterr().err
