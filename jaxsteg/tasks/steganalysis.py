"""CNN steganalysis as a task: a detector (XuNet, SRNet, slim SRNet) learns to tell a frozen hider's containers
from covers, trained by the generic loop (sharded data parallel, checkpointed, resumable) like every family.

The hider is `config.hider.workdir` (a jaxsteg run of any family) or `config.hider.spec` (a workdir, or a
classical embedder `lsbm:0.4`, `hill:0.4`, `lsbr:1.0`); a non-empty `workdir` wins. Pairs come from
`jaxsteg.attacks.pairs`, split by photograph: training pairs are random crops of the TRAINING photographs,
evaluation uses the fixed held-out pairs (the grid of crops of the held-out photographs), the same for every
detector and hider, so rows compare.

Training pairs: making containers with a model at every step would dominate a CPU run, so a pool of
`data.train_pairs` (cover, container) pairs is made once, when the training data is set up (capped at
num_train_steps × batch_size, the most pairs the run can draw), and batches are drawn from it with
replacement. Each drawn pair gets one random flip and rotation by a multiple of 90°, the same for the container
and its own cover, and the two sit side by side in the batch (SRNet's recipe): `batch_size` counts PAIRS, a
batch holds 2 × batch_size images, and a pair never straddles two devices. The pool is a pure function of
(hider, crop size, pool size, seed), so a resumed run draws the batches an uninterrupted run would.

Loss: binary cross-entropy of one logit per image (container = 1). Optimizer: `optim.name` adam, adamw or
adamax (SRNet's). BN statistics live in the state's `batch_stats`. Evaluation: the `detection` evaluator
(accuracy, AUC, P_E with bootstrap intervals, ROC). Capabilities: Task only (a detector hides nothing).
"""

from __future__ import annotations

import dataclasses
import functools
import os

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from jaxsteg import errors
from jaxsteg import optim
from jaxsteg.data import pipeline
from jaxsteg.models import steganalysis as models

Config = ml_collections.ConfigDict


# --- The hider and its pairs ---------------------------------------------------------------------------------

def hider_spec(config: Config) -> str:
  """The hider's spec: `config.hider.workdir` when set, else `config.hider.spec`."""
  hider = config.get("hider") or {}
  spec = hider.get("workdir") or hider.get("spec") or ""
  if not spec:
    raise errors.ConfigError("a steganalysis config needs a hider: set config.hider.spec to a workdir or a "
                             "classical embedder such as lsbm:0.4 (or config.hider.workdir)")
  return os.fspath(spec)


@functools.lru_cache(maxsize=4)
def source_of(spec: str, size: int):
  """The `attacks.pairs.Source` of a hider spec at a crop size, loaded once per process."""
  from jaxsteg.attacks import pairs  # pylint: disable=g-import-not-at-top
  return pairs.source(spec, size)


def hider_source(config: Config):
  """The `attacks.pairs.Source` of the config's hider (loaded once per process); errors.* for a bad spec."""
  return source_of(hider_spec(config), int(config.data.size))


def num_train_pairs(config: Config) -> int:
  """Pairs in the training pool: data.train_pairs, at most what num_train_steps batches can draw."""
  n = min(int(config.data.train_pairs), int(config.num_train_steps) * int(config.batch_size))
  if n < 1:
    raise errors.ConfigError(f"data.train_pairs must be at least 1, got {config.data.train_pairs}")
  return n


@functools.lru_cache(maxsize=2)
def hider_pairs(spec: str, size: int, split: str, n: int | None, seed: int):
  """`attacks.pairs.Pairs` of the hider `spec` (`Source.pairs(split, n, seed)`), kept for the last two calls:
  the training pool and the held-out pairs of one hider are made once per process, whoever asks first (the
  benchmark makes them, scores its classical detectors on them, then trains CNN detectors on the same)."""
  return source_of(spec, size).pairs(split, n, seed)


def train_pool(config: Config) -> tuple[np.ndarray, np.ndarray]:
  """(covers, containers) of the training pool, uint8 (N, S, S, 3): crops of the training photographs."""
  hider_source(config)
  p = hider_pairs(hider_spec(config), int(config.data.size), "train", num_train_pairs(config), int(config.seed))
  return p.covers, p.containers


def detector_info(config: Config) -> dict:
  """What a detection report says about this detector; checks the config (errors.* on a bad one)."""
  network(config)
  src = hider_source(config)
  from jaxsteg.attacks import pairs  # pylint: disable=g-import-not-at-top
  return {"detector": config.model.arch, "hider": pairs.describe(src), "num_train_pairs": num_train_pairs(config),
          "size": int(src.size)}


# --- Data ----------------------------------------------------------------------------------------------------

def augment_pair(cover: np.ndarray, container: np.ndarray, rng: np.random.Generator, flip: bool, rot90: bool):
  """The same random flip and rotation by k·90° of a cover and its container (H, W, C)."""
  k = int(rng.integers(4)) if rot90 else 0
  f = bool(rng.integers(2)) if flip else False

  def apply(x):
    x = np.rot90(x, k, axes=(0, 1))
    return np.ascontiguousarray(x[:, ::-1] if f else x)

  return apply(cover), apply(container)


def train_dataset(config: Config):
  covers, containers = train_pool(config)
  flip, rot90 = bool(config.data.flip), bool(config.data.rot90)

  def make_example(index, rng: np.random.Generator):
    del index  # A function of its rng alone (grain derives it from (seed, index)).
    i = int(rng.integers(len(covers)))
    cover, container = augment_pair(covers[i], containers[i], rng, flip, rot90)
    return {"cover": cover, "container": container}

  return pipeline.example_stream(make_example, seed=int(config.seed), global_batch=int(config.batch_size))


@dataclasses.dataclass
class PairSet(pipeline.EvalSet):
  """The fixed held-out pairs: example i = {'cover', 'container'}, each (S, S, 3) uint8."""
  covers: np.ndarray
  containers: np.ndarray
  length: int

  def example(self, i: int) -> dict[str, np.ndarray]:
    return {"cover": self.covers[i], "container": self.containers[i]}


def eval_set(config: Config) -> PairSet:
  hider_source(config)
  held_out = hider_pairs(hider_spec(config), int(config.data.size), "test", None, int(config.seed))
  covers, containers = held_out.covers, held_out.containers
  n = len(covers) if not config.data.get("eval_max_pairs") else min(len(covers), int(config.data.eval_max_pairs))
  return PairSet(covers, containers, n)


def dummy_batch(config: Config, batch_size: int, size: int | None = None) -> dict:
  size = size or int(config.data.size)
  zeros = jnp.zeros((batch_size, size, size, 3), jnp.uint8)
  return {"cover": zeros, "container": zeros}


# --- Model, optimizer, steps ---------------------------------------------------------------------------------

def network(config: Config):
  try:
    return models.make_detector(config.model.arch, config.model.get("bn_momentum", 0.9),
                                tuple(config.model.get("widths") or ()) or None,
                                bool(config.model.get("high_pass_init", False)))
  except ValueError as e:
    raise errors.ConfigError(f"config.model: {e}") from e


def optimizer(config: Config) -> optax.GradientTransformation:
  """optim.make_optimizer, plus Adamax (SRNet's optimizer)."""
  opt = config.optim
  if opt.name != "adamax":
    return optim.make_optimizer(opt, config.num_train_steps)
  tx = optax.adamax(optim.make_schedule(opt, config.num_train_steps), b1=opt.b1, b2=opt.b2)
  return optax.chain(optax.clip_by_global_norm(opt.grad_clip), tx) if opt.get("grad_clip") else tx


def pair_images(batch: dict) -> tuple[jnp.ndarray, jnp.ndarray]:
  """Covers and containers (B, H, W, C) uint8 -> images (2B, H, W, C) in pixel levels, each container right
  after its own cover (rows stay on their device), and labels (2B,) (container = 1)."""
  cover, container = batch["cover"], batch["container"]
  images = jnp.stack([cover, container], axis=1).reshape((-1,) + cover.shape[1:]).astype(jnp.float32)
  labels = jnp.tile(jnp.asarray([0.0, 1.0], jnp.float32), cover.shape[0])
  return images, labels


def init_state(config: Config, rng: jax.Array, batch: dict) -> dict:
  images, _ = pair_images(batch)
  init_rng, state_rng = jax.random.split(rng)
  variables = network(config).init(init_rng, images, train=False)
  params = {"detector": variables["params"]}
  return {
      "step": jnp.zeros((), jnp.int32),
      "params": params,
      "batch_stats": variables["batch_stats"],
      "opt_state": {"detector": optimizer(config).init(params["detector"])},
      "rng": jax.random.key_data(state_rng),
  }


def logits(config: Config, params: dict, batch_stats, images: jnp.ndarray) -> jnp.ndarray:
  """The detector's logits (B,) of images (B, H, W, C) in pixel levels (BN with its running statistics)."""
  return network(config).apply({"params": params["detector"], "batch_stats": batch_stats}, images, train=False)


def loss_fn(config: Config, params: dict, batch_stats, batch: dict):
  images, labels = pair_images(batch)
  out, updates = network(config).apply({"params": params["detector"], "batch_stats": batch_stats}, images,
                                       train=True, mutable=["batch_stats"])
  loss = jnp.mean(optax.sigmoid_binary_cross_entropy(out, labels))
  accuracy = jnp.mean(((out > 0) == (labels > 0.5)).astype(jnp.float32))
  return loss, {"metrics": {"loss": loss, "accuracy": accuracy}, "batch_stats": updates["batch_stats"]}


def train_step(config: Config, state: dict, batch: dict) -> tuple[dict, dict]:
  rng = jax.random.fold_in(jax.random.wrap_key_data(state["rng"]), state["step"])
  grads, aux = optim.microbatch_grads(lambda p, b, r: loss_fn(config, p, state["batch_stats"], b),
                                      state["params"], batch, rng, config.microbatches)
  params, opt_state = optim.apply_updates({"detector": optimizer(config)}, state["params"], state["opt_state"],
                                          grads)
  new = dict(state, step=state["step"] + 1, params=params, opt_state=opt_state, batch_stats=aux["batch_stats"])
  return new, aux["metrics"]


def eval_step(config: Config, state: dict, batch: dict):
  """Per pair: the cover's and the container's scores (logits) and whether both are classified right; the
  images for a grid."""
  images, _ = pair_images(batch)
  out = logits(config, state["params"], state["batch_stats"], images).reshape(-1, 2)
  per_pair = {"cover_score": out[:, 0], "container_score": out[:, 1],
              "correct": 0.5 * ((out[:, 0] <= 0).astype(jnp.float32) + (out[:, 1] > 0).astype(jnp.float32))}
  return per_pair, {"cover": batch["cover"].astype(jnp.float32) / 255.0,
                    "container": batch["container"].astype(jnp.float32) / 255.0}


def grid_columns(config: Config, images: dict) -> list:
  del config
  return [("cover", images["cover"]), ("container", images["container"]),
          ("10x |residual|", jnp.clip(10.0 * jnp.abs(images["container"] - images["cover"]), 0.0, 1.0))]


def detector_scores(config: Config, state: dict, batch: dict) -> tuple[jnp.ndarray, jnp.ndarray]:
  """(cover scores (B,), container scores (B,)) of a held-out batch: what the detection evaluator reads."""
  per_pair, _ = eval_step(config, state, batch)
  return per_pair["cover_score"], per_pair["container_score"]

