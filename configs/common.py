"""Shared config pieces: string-argument parsing and the defaults every config starts from.

Configs take one string argument, e.g. `--config configs/deepstego_embedded.py:tiny` or `...:res=64,steps=100`.
"""

from __future__ import annotations

import ml_collections


def parse_arg(arg: str | None, **defaults) -> ml_collections.ConfigDict:
  """'tiny,res=64' -> ConfigDict(tiny=True, res=64), typed by `defaults`; unknown keys are an error."""
  result = ml_collections.ConfigDict(dict(defaults))
  if not arg:
    return result
  for item in arg.split(","):
    if not item:
      continue
    key, _, value = item.partition("=")
    if key not in defaults:
      raise KeyError(f"unknown config argument {key!r}; known: {', '.join(sorted(defaults))}")
    default = defaults[key]
    if not value:  # A bare key is a true flag.
      if not isinstance(default, bool):
        raise ValueError(f"config argument {key!r} needs a value ({key}=...)")
      result[key] = True
    elif isinstance(default, bool):
      result[key] = value.lower() in ("1", "true", "yes")
    else:
      result[key] = type(default)(value)
  return result


def base_config() -> ml_collections.ConfigDict:
  """Fields of the generic loop, shared by all families."""
  c = ml_collections.ConfigDict()
  c.task = ""
  c.seed = 0
  c.num_train_steps = 1000
  c.batch_size = 32            # Global batch (all devices, all processes).
  c.microbatches = 1           # Split each device step into this many unrolled micro-batches (CPU speed).
  c.num_devices = 0            # 0: all visible devices.
  c.cpu_devices = 0            # >0: split a CPU host into this many devices (one per core runs best); 0: as is.
  c.log_every = 50
  c.eval_every = 0             # 0: evaluate only at the end.
  c.checkpoint_every = 500
  c.keep_checkpoints = 3
  c.async_checkpoints = True

  c.optim = ml_collections.ConfigDict()
  c.optim.name = "adam"
  c.optim.learning_rate = 1e-4
  c.optim.schedule = "constant"
  c.optim.warmup_steps = 0
  c.optim.b1 = 0.9
  c.optim.b2 = 0.999
  c.optim.weight_decay = 0.0
  c.optim.grad_clip = 0.0      # 0: no clipping.
  c.optim.decay_start_fraction = 0.5   # linear_decay only.
  c.optim.final_fraction = 0.0         # cosine only.

  c.eval = ml_collections.ConfigDict()
  c.eval.batch_size = 32       # Global batch of every evaluator (a multiple of the device count).

  # Evaluators (jaxsteg/evaluators/<name>.py), each with its own options; `heldout` runs first, then the
  # others in alphabetical order. Families add theirs (security, key_sensitivity, fid_lpips, text_recovery).
  c.evals = ml_collections.ConfigDict()
  c.evals.heldout = ml_collections.ConfigDict()
  c.evals.heldout.num_grid_examples = 6   # Examples in eval/<step>/grid.png (0: no grid).
  return c


def apply_tiny(c: ml_collections.ConfigDict) -> None:
  """Seconds on a CPU: for tests and smoke runs. Keeps the family's code paths, shrinks everything else."""
  c.num_train_steps = 4
  c.batch_size = 8
  c.microbatches = 1
  c.log_every = 2
  c.checkpoint_every = 2
  c.eval_every = 0
  c.eval.batch_size = 8
  c.evals.heldout.num_grid_examples = 2


def noise_block(layers: tuple[str, ...] = (), *, mode: str = "one_of", clean_steps: int = 0, ramp_steps: int = 0,
                probability: float = 1.0, rounding: str = "ste") -> ml_collections.ConfigDict:
  """The `noise` block of the image-hiding and bit families: the training channel (`jaxsteg.attacks.channel`).

  With no layers (the default) it is off and a family trains exactly as before. Otherwise, in training only,
  the revealer sees the 8-bit container distorted by differentiable layers (`jaxsteg.attacks.differentiable`,
  the real distortions' names: 'jpeg:90', 'noise:2', 'resize:0.5', ...): one drawn per batch (`mode`
  'one_of', HiDDeN's combined setting) or all in sequence ('all'); clean for `clean_steps`, then distorted
  batches ramped in over `ramp_steps` up to `probability`.
  """
  return ml_collections.ConfigDict({"layers": tuple(layers), "mode": mode, "rounding": rounding,
                                    "clean_steps": clean_steps, "ramp_steps": ramp_steps,
                                    "probability": probability})


def add_stability(c: ml_collections.ConfigDict, *, grad_clip: float = 1.0, skip_nonfinite: int = 5,
                  rollback: bool = True) -> None:
  """Opt-in training stability (`jaxsteg.rollback`); configs that do not call this train exactly as before.

  - optim.grad_clip: global-norm clipping (optax.clip_by_global_norm).
  - optim.skip_nonfinite: updates with a NaN/Inf gradient are skipped (optax.apply_if_finite), up to this many
    in a row; the loop logs each skipped step and stops (as without this block) when there are more.
  - stability.rollback: when the loss exceeds `spike_factor` × the median of the last `window` logged losses
    (after `min_history` of them), training goes back to the last checkpoint and the learning rate is scaled
    by `lr_factor`, at most `max_rollbacks` times. Each rollback is logged and kept in workdir/rollbacks.jsonl
    (a resumed run keeps the lowered rate).
  """
  c.optim.grad_clip = grad_clip
  c.optim.skip_nonfinite = skip_nonfinite
  c.stability = ml_collections.ConfigDict()
  c.stability.rollback = rollback
  c.stability.spike_factor = 10.0
  c.stability.window = 200
  c.stability.min_history = 20
  c.stability.lr_factor = 0.5
  c.stability.max_rollbacks = 5
