"""Test setup: 8 simulated CPU devices (so every sharding path runs), parsed absl flags, shared fixtures."""

import os
import sys

os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8").strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from absl import flags  # noqa: E402
import pytest  # noqa: E402

flags.FLAGS.mark_as_parsed()


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
  """A :tiny Deep Steganography run trained once for the whole session: (config, workdir, eval means)."""
  from configs import deepstego_embedded  # pylint: disable=g-import-not-at-top
  from jaxsteg import train  # pylint: disable=g-import-not-at-top
  config = deepstego_embedded.get_config("tiny")
  workdir = tmp_path_factory.mktemp("tiny_run")
  means = train.train_and_evaluate(config, str(workdir))
  return config, str(workdir), means
