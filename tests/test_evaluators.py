"""Evaluators found by name: the registry (order, capabilities, checks before training), the security report
for a Deep Steganography run, and jitted functions built once per config."""

import json
import os
import shutil

import jax
import ml_collections
import numpy as np
import pytest

from configs import deepstego_embedded
from jaxsteg import checkpoint
from jaxsteg import errors
from jaxsteg import evaluate
from jaxsteg import setup as setup_lib
from jaxsteg import sharding
from jaxsteg import tasks
from jaxsteg import train
from jaxsteg.data import pipeline
from jaxsteg.evaluators import common
from jaxsteg.evaluators import heldout
from jaxsteg.tasks import deepstego
from jaxsteg.tasks import keymixer


def _with_evals(config, **blocks):
  with config.unlocked():
    for name, opts in blocks.items():
      config.evals[name] = ml_collections.ConfigDict(opts)
  return config


def test_order_is_heldout_first_then_alphabetical_and_disabled_ones_are_skipped():
  config = _with_evals(deepstego_embedded.get_config("tiny"), text_recovery={"enabled": False},
                       security={}, fid_lpips={})
  assert common.names(config) == ["heldout", "fid_lpips", "security"]


@pytest.mark.parametrize("name, message", [
    ("no_such_evaluator", "unknown evaluator 'no_such_evaluator'"),
    ("stats", "is not an evaluator"),                                   # A helper module, not an evaluator.
    ("text_recovery", "needs a model that hides bits .* task 'deepstego' is not one"),
    ("key_sensitivity", "needs a model that disguises pasted messages"),
])
def test_bad_evaluators_fail_before_training(name, message, tmp_path):
  config = _with_evals(deepstego_embedded.get_config("tiny"), **{name: {}})
  with pytest.raises(errors.ConfigError, match=message):
    train.train_and_evaluate(config, str(tmp_path / "run"))
  assert not (tmp_path / "run").exists()      # Nothing written: the check runs before the workdir is made.


def test_a_deepstego_config_lists_security_and_gets_the_report(tiny_run, tmp_path):
  """The security report through the ImageHider capability: Deep Steganography is unkeyed, so the keyed rows
  read n/a; the held-out numbers are those of the run's own evaluation."""
  config, trained, means = tiny_run
  workdir = tmp_path / "run"
  shutil.copytree(trained, workdir)
  config = _with_evals(config, security={"num_wrong_keys": 3, "num_pairs": 3000, "max_images": 4})
  out = evaluate.run_eval(config, str(workdir))
  step = config.num_train_steps
  for k, v in means.items():
    assert out[k] == pytest.approx(v), k
  assert np.isfinite(out["security/container_psnr"]) and "security/wrong_key_psnr" not in out
  sec = workdir / "eval" / str(step) / "security"
  assert sorted(os.listdir(sec)) == ["correlation.png", "histograms.png", "security.json", "security.md"]
  report = json.loads((sec / "security.json").read_text())
  assert report["task"] == "deepstego" and report["num_images"] == 4
  assert "| Wrong keys: mean PSNR(S, S'_wrong) (dB) | n/a |" in (sec / "security.md").read_text()
  record = json.loads((workdir / "eval" / str(step) / "metrics.json").read_text())
  assert record["metrics"]["security/container_psnr"] == pytest.approx(out["security/container_psnr"])


def test_capabilities_of_the_families():
  from jaxsteg.tasks import bits, cloak_image, cloak_text, encryptgan  # pylint: disable=g-import-not-at-top
  assert all(isinstance(t, tasks.Task) for t in (deepstego, keymixer, encryptgan, bits, cloak_text, cloak_image))
  assert [isinstance(t, tasks.ImageHider) for t in (deepstego, keymixer, encryptgan, bits, cloak_image)] == [
      True, True, False, False, True]
  assert isinstance(keymixer, tasks.Keyed) and not isinstance(deepstego, tasks.Keyed)
  assert isinstance(bits, tasks.BitChannel) and isinstance(encryptgan, tasks.DomainCipher)
  c = ml_collections.ConfigDict({"task": "keymixer", "model": {"key_mode": "passphrase"}})
  assert tasks.run_needs_passphrase(c)
  c.model.key_mode = "trainable"
  assert not tasks.run_needs_passphrase(c)
  assert not tasks.run_needs_passphrase(ml_collections.ConfigDict({"task": "deepstego"}))
  assert not tasks.run_needs_passphrase(ml_collections.ConfigDict({}))


def test_jitted_functions_are_built_once_per_config(tiny_run):
  config, workdir, _ = tiny_run
  fns = deepstego.image_functions(config)
  assert deepstego.image_functions(config.copy_and_resolve_references()) is fns    # Equal content: cached.
  other = config.copy_and_resolve_references()
  other.model.width = 4
  assert deepstego.image_functions(other) is not fns
  # The held-out evaluator's step, as eval_watch runs it on every checkpoint: built, traced, compiled once.
  setup = setup_lib.eval_setup(config)
  ckpt = checkpoint.Checkpointer(os.path.join(workdir, "checkpoints"), async_save=False)
  try:
    states = [ckpt.restore(s, setup.abstract_state)[0] for s in (2, 4)]
  finally:
    ckpt.close()
  eval_set = deepstego.eval_set(config)
  batch = sharding.to_global(next(pipeline.eval_batches(eval_set, config.eval.batch_size)), setup.batch_sharding)
  with jax.set_mesh(setup.mesh):
    for state in states:
      fn = heldout.eval_function(config, setup)
      assert fn is heldout.eval_function(config, setup)
      fn(state, batch)
  assert fn._cache_size() == 1  # pylint: disable=protected-access
