"""Entry point: `python -m jaxsteg.main --config configs/<family>_<data>.py[:args] --workdir DIR [--mode ...]`."""

import sys

from absl import app
from absl import flags
from absl import logging
import jax
from ml_collections import config_flags

_CONFIG = config_flags.DEFINE_config_file("config", None, "Config file (configs/*.py[:args]).",
                                          lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory for checkpoints, metrics and images.")
_MODE = flags.DEFINE_enum("mode", "train", ["train", "eval", "eval_watch"],
                          "train (then evaluate), eval (one checkpoint), or eval_watch (each new checkpoint).")
_STEP = flags.DEFINE_integer("step", None, "--mode=eval: checkpoint step to evaluate (default: latest).")
_STOP_AT = flags.DEFINE_integer("stop_at_step", None,
                                "--mode=train: save and exit at this step, as a preemption would.")
_WATCH_POLL = flags.DEFINE_float("watch_poll", 30.0, "--mode=eval_watch: seconds between checks.")
_WATCH_TIMEOUT = flags.DEFINE_float("watch_timeout", 3600.0,
                                    "--mode=eval_watch: stop after this many seconds without a new checkpoint.")
_DISTRIBUTED = flags.DEFINE_bool("distributed", False, "Call jax.distributed.initialize (multi-host).")
_COORDINATOR = flags.DEFINE_string("coordinator_address", None,
                                   "--distributed: host:port of process 0 (default: from the cluster).")
_NUM_PROCESSES = flags.DEFINE_integer("num_processes", None, "--distributed: number of processes.")
_PROCESS_ID = flags.DEFINE_integer("process_id", None, "--distributed: this process's index.")
flags.mark_flags_as_required(["config", "workdir"])


class _QuietLibraries(logging.logging.Filter):
  """Drops INFO chatter of Orbax's internals (every save logs dozens of lines); warnings still pass."""

  def filter(self, record):
    return record.levelno >= logging.logging.WARNING or "/orbax/" not in record.pathname


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  logging.get_absl_handler().addFilter(_QuietLibraries())
  from jaxsteg import errors, evaluate, sharding, train  # pylint: disable=g-import-not-at-top,multiple-imports
  config = _CONFIG.value
  if config.get("cpu_devices"):
    # Must happen before the backend starts; affects only the CPU platform (no effect where an accelerator
    # is the default backend). Data parallelism over one device per core uses both cores of a small CPU.
    jax.config.update("jax_num_cpu_devices", config.cpu_devices)
  sharding.maybe_initialize_distributed(_DISTRIBUTED.value, _COORDINATOR.value, _NUM_PROCESSES.value,
                                       _PROCESS_ID.value)
  logging.info("JAX %s: process %d/%d, %d devices (%s)", jax.__version__, jax.process_index(),
               jax.process_count(), jax.device_count(), jax.default_backend())
  try:
    if _MODE.value == "train":
      means = train.train_and_evaluate(config, _WORKDIR.value, stop_at_step=_STOP_AT.value)
    elif _MODE.value == "eval":
      means = evaluate.run_eval(config, _WORKDIR.value, _STEP.value)
    else:
      means = evaluate.watch(config, _WORKDIR.value, poll_seconds=_WATCH_POLL.value,
                             timeout_seconds=_WATCH_TIMEOUT.value)
  except errors.UserError as e:   # A user mistake: its message, no traceback.
    sys.exit(errors.report(e))
  if jax.process_index() == 0:
    print(f"workdir: {_WORKDIR.value}")
    for k, v in means.items():
      print(f"  {k}: {v:.4f}")


if __name__ == "__main__":
  app.run(main)
