"""Test setup: 8 simulated CPU devices (so every sharding path runs), a persistent compilation cache, parsed absl
flags, and the session's shared training runs (once per session, whatever the number of xdist workers).

- The compilation cache is set through the environment, so the subprocesses some tests start (the entry points,
  two-process training) inherit it: a program compiled once, in any test or process, loads from disk
  afterwards. It lives in .pytest_cache/, one folder per xdist worker (kept between local runs;
  `JAXSTEG_TEST_CACHE=DIR` moves it, `=off` disables it).
- Tests compile far more than they compute (tiny networks, few steps), so XLA's backend optimisation is off
  (`--xla_backend_optimization_level=0`: a quarter less compile time on our 2-core CPU; the programs are the
  same, only the generated machine code is less optimised). Real runs keep XLA's default.
- `trained_tiny(name)` trains `configs/<name>.py:tiny` once per session: the first worker that asks trains it in
  the session's shared temporary folder under a file lock (pytest-xdist's recipe for session fixtures); the
  others wait for it and read the same workdir and metrics. Tests must not change a shared workdir.
"""

import dataclasses
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
                           " --xla_backend_optimization_level=0").strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")
_CACHE = os.environ.get("JAXSTEG_TEST_CACHE", os.path.join(ROOT, ".pytest_cache", "jax_compilation_cache"))
if _CACHE != "off":
  # One folder per xdist worker: JAX writes cache entries without a lock when the cache has no size limit.
  os.environ.setdefault("JAX_COMPILATION_CACHE_DIR",
                        os.path.join(_CACHE, os.environ.get("PYTEST_XDIST_WORKER", "main")))
  os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
  os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")
sys.path.insert(0, ROOT)

from absl import flags  # noqa: E402
import filelock  # noqa: E402
import pytest  # noqa: E402

flags.FLAGS.mark_as_parsed()

MAX_WORKERS = 4   # `-n auto`: one xdist worker per core, at most this many (each holds JAX and its compiles).


def pytest_xdist_auto_num_workers(config):
  del config
  return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def load_config(name: str, arg: str | None = "tiny"):
  module = __import__(f"configs.{name}", fromlist=["get_config"])
  return module.get_config(arg)


def write_initialised_run(config, path) -> str:
  """A workdir at `path` holding `config` and its task's freshly initialised state as checkpoint 1: what the
  commands and the server load, without training (their plumbing must not depend on what training learned)."""
  import jax  # pylint: disable=g-import-not-at-top
  from jaxsteg import checkpoint, tasks  # pylint: disable=g-import-not-at-top,multiple-imports
  task = tasks.get_task(config.task)
  state = jax.jit(lambda r: task.init_state(config, r, task.dummy_batch(config, 1)))(jax.random.key(0))
  ckpt = checkpoint.Checkpointer(path / "checkpoints", async_save=False)
  ckpt.save(1, state, force=True)
  ckpt.close()
  checkpoint.write_config(path, config.to_json())
  return str(path)


@pytest.fixture(scope="session")
def initialised_run():
  """initialised_run(config, path) -> a workdir with an untrained checkpoint (`write_initialised_run`)."""
  return write_initialised_run


@dataclasses.dataclass(frozen=True)
class TrainedRun:
  """A config trained and evaluated once for the session; tests read it and must not change its workdir."""
  config: object
  workdir: str
  means: dict

  def __iter__(self):   # (config, workdir, means), as the tiny_run fixture has always given.
    return iter((self.config, self.workdir, self.means))


def _train(name: str, workdir: str) -> dict:
  from jaxsteg import train  # pylint: disable=g-import-not-at-top
  config = load_config(name, "tiny")
  if config.data.cover == "embedded" or config.data.get("domains") == "embedded":
    return train.train_and_evaluate(config, workdir)
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  with tfds.testing.mock_data(num_examples=16, policy=tfds.testing.MockPolicy.USE_CODE):
    return train.train_and_evaluate(config, workdir)


@pytest.fixture(scope="session")
def trained_tiny(tmp_path_factory):
  """trained_tiny(name) -> the `configs/<name>.py:tiny` run, trained and evaluated by the generic loop once per
  session (TFDS datasets under `tfds.testing.mock_data`), shared by test_configs and the family tests."""
  base = tmp_path_factory.getbasetemp()
  shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "trained_tiny"
  shared.mkdir(exist_ok=True)

  def get(name: str) -> TrainedRun:
    workdir, record = shared / name, shared / f"{name}.means.json"
    with filelock.FileLock(str(shared / f"{name}.lock")):
      if not record.exists():
        means = _train(name, str(workdir))
        tmp = shared / f"{name}.means.json.tmp"
        tmp.write_text(json.dumps(means))
        tmp.replace(record)
    return TrainedRun(load_config(name, "tiny"), str(workdir), json.loads(record.read_text()))

  return get


@pytest.fixture(scope="session")
def tiny_run(trained_tiny):
  """The :tiny Deep Steganography run of the session: (config, workdir, eval means)."""
  return trained_tiny("deepstego_embedded")
