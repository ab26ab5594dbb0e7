"""Every config trains and evaluates at `:tiny`; the entry point's flags work; config typos fail at once."""

import glob
import json
import os
import subprocess
import sys

import pytest

from jaxsteg import train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, "configs", "*_*.py"))
                 if not p.endswith("_base.py") and not os.path.basename(p).startswith("_"))


def _load(name, arg):
  module = __import__(f"configs.{name}", fromlist=["get_config"])
  return module.get_config(arg)


def test_configs_are_found():
  assert {"deepstego_embedded", "deepstego_stl10", "deepstego_imagenet224"} <= set(CONFIGS)


@pytest.mark.parametrize("name", CONFIGS)
def test_config_trains_and_evaluates_at_tiny(name, trained_tiny):
  # The session's shared run (conftest.trained_tiny): TFDS datasets are read through tfds.data_source, which
  # mock_data serves with random records without any files.
  config, workdir, means = trained_tiny(name)
  assert config.num_train_steps <= 10
  assert means and all(v == v for v in means.values())   # No NaN.
  assert os.path.exists(os.path.join(workdir, "eval", str(config.num_train_steps), "metrics.json"))


def test_embedded_variants_at_tiny(tmp_path):
  """The K-secret model and the light architecture through the whole loop."""
  for arg in ("tiny,secrets=2", "tiny,arch=light"):
    config = _load("deepstego_embedded", arg)
    means = train.train_and_evaluate(config, str(tmp_path / arg.replace(",", "_")))
    assert "secret_psnr" in means
    if "secrets=2" in arg:
      assert {"secret_psnr_0", "secret_psnr_1"} <= set(means)


def test_parse_arg_rejects_unknown_keys():
  with pytest.raises(KeyError, match="unknown config argument"):
    _load("deepstego_embedded", "tiny,stpes=3")


def _main(args, cwd):
  env = dict(os.environ, PYTHONPATH=ROOT)
  return subprocess.run([sys.executable, "-m", "jaxsteg.main", *args], capture_output=True, text=True,
                        env=env, cwd=cwd, check=False)


def test_main_train_then_eval_and_typo(tmp_path):
  """As a user runs it: a relative workdir, train (with checkpoints), then evaluate a chosen step."""
  workdir = "runs/tiny"
  cfg = os.path.join(ROOT, "configs", "deepstego_embedded.py") + ":tiny"
  proc = _main(["--config", cfg, "--workdir", workdir], tmp_path)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert f"workdir: {workdir}" in proc.stdout
  assert os.path.isdir(tmp_path / workdir / "checkpoints" / "4")
  proc = _main(["--config", cfg, "--workdir", workdir, "--mode", "eval", "--step", "2"], tmp_path)
  assert proc.returncode == 0, proc.stderr[-3000:]
  with open(tmp_path / workdir / "eval" / "2" / "metrics.json") as f:
    assert json.load(f)["step"] == 2
  proc = _main(["--config", cfg, "--workdir", workdir, "--config.optim.lerning_rate=1"], tmp_path)
  assert proc.returncode != 0
  assert "lerning_rate" in proc.stderr
