"""Model families as tasks, found by name, and the capabilities a task may have.

A task is a module `jaxsteg.tasks.<name>` of pure functions that the generic loop (`jaxsteg.train`) composes:
it satisfies `Task`. The loop adds jit, shardings, donation, checkpoints, logging and evaluation; it knows
nothing of the family. What else a task can do is stated by the capabilities below (`typing.Protocol`s that
a module satisfies by defining the functions): evaluators, the `jaxsteg` command and the security report ask
for a capability with `isinstance(task, ImageHider)`, never for a family by name.

  Task          every family: data, state, train and eval steps, sample grid columns
  ImageHider    hides K secret images in a cover and reveals them (batched float functions)
  Keyed         an ImageHider whose hiding and revealing take a key (learned, or from a passphrase)
  BitChannel    hides a field of bits in a cover and reads back logits: (H, W, D) for an H×W cover, or the
                shape its optional `bit_shape` gives (one bit field per 8×8 block, ...): `bit_shape` below
  DomainCipher  EncryptGAN-style keyed translation: key images, disguise and recovery of a pasted message

Functions that build jitted callables (`image_functions`, ...) are cached per config by the task, so repeated
calls do not compile again.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, Callable, NamedTuple, Protocol, runtime_checkable

import ml_collections

from jaxsteg import errors

Config = ml_collections.ConfigDict


@runtime_checkable
class Task(Protocol):
  """What the generic loop needs of every family."""

  def train_dataset(self, config: Config) -> Any:
    """grain.MapDataset of this process's training batches (dicts of numpy arrays)."""

  def eval_set(self, config: Config) -> Any:
    """The held-out examples: a `jaxsteg.data.pipeline.EvalSet`."""

  def init_state(self, config: Config, rng: Any, batch: dict) -> dict:
    """{'step', 'params': {net: ...}, 'opt_state': {net: ...}, 'rng', ...} (pure: run under jit)."""

  def train_step(self, config: Config, state: dict, batch: dict) -> tuple[dict, dict]:
    """(new state, {scalar metrics}) (pure: jitted, donated and sharded by the loop)."""

  def eval_step(self, config: Config, state: dict, batch: dict) -> tuple[dict, dict]:
    """({per-example metrics, shape (B,)}, {name: images (B, H, W, C)}) on 8-bit containers (pure)."""

  def grid_columns(self, config: Config, images: dict) -> list:
    """[(title, images (B, H, W, C) in [0, 1])] for the sample PNG grid."""

  def dummy_batch(self, config: Config, batch_size: int, size: int | None = None) -> dict:
    """Zeros shaped like a batch: derives the state's shapes without reading a dataset."""


class ImageFunctions(NamedTuple):
  """Jitted, batched functions on float images in [0, 1]; `key` is None for unkeyed families.

  hide(params, cover (B, H, W, C), secrets (B, K, H, W, C), key) -> container (B, H, W, C), not yet rounded
  reveal(params, container (B, H, W, C), key) -> revealed secrets (B, K, H, W, C), not yet rounded
  """
  hide: Callable
  reveal: Callable


@runtime_checkable
class ImageHider(Protocol):
  """A family that hides K secret images in a cover image of any size (a multiple of `size_multiple`)."""

  def num_secrets(self, config: Config) -> int:
    """K, the number of secret images one container holds."""

  def size_multiple(self, config: Config) -> int:
    """Image height and width must be multiples of this (callers pad and crop back)."""

  def image_functions(self, config: Config) -> ImageFunctions:
    """The batched hide/reveal functions (cached per config)."""


@runtime_checkable
class Keyed(Protocol):
  """An ImageHider whose functions take a key: a learned parameter, or one derived from a passphrase."""

  def needs_passphrase(self, config: Config) -> bool:
    """Whether a user must give a passphrase (False: the key is part of the weights)."""

  def key_for_use(self, config: Config, params: Any, passphrase: str | None) -> Any:
    """The key a user's hide/reveal runs with; ValueError when a passphrase is missing or not wanted."""

  def analysis_keys(self, config: Config, params: Any, passphrase: str | None, num_wrong: int,
                    seed: int = 0) -> dict:
    """{'right', 'flipped' (one key bit flipped), 'wrong' (num_wrong keys), 'flip_note', 'key_source',
    'wrong_note'} for the security report."""

  def mix_function(self, config: Config) -> Callable:
    """Jitted (params, secret (B, H, W, C) in [0, 1], key) -> the keyed transform of the secret that is hidden
    (cipher statistics apply to it)."""


class BitFunctions(NamedTuple):
  """Pure (not jitted) functions of a bit channel, on float images in [0, 1]; (h, w, D) = `bit_shape(H, W)`.

  hide(params, cover (B, H, W, C), bits (B, h, w, D) in {0, 1}) -> container (B, H, W, C), not yet rounded
  reveal(params, container (B, H, W, C)) -> bit logits (B, h, w, D), > 0 meaning 1
  """
  hide: Callable
  reveal: Callable


@runtime_checkable
class BitChannel(Protocol):
  """A family that hides a field of bits; `jaxsteg.payload.channel` turns it into a host-side channel.

  The field of an H×W cover is (H, W, D); a family whose field is laid out otherwise also defines
  `bit_shape(config, height, width) -> (h, w, D)` (`bit_shape` below asks for it)."""

  def bit_depth(self, config: Config) -> int:
    """D, bits per cell of the field (per pixel unless the family defines `bit_shape`)."""

  def bit_functions(self, config: Config) -> BitFunctions:
    """The pure hide/reveal functions (the channel jits and shards them)."""


def bit_shape(task: ModuleType, config: Config, height: int, width: int) -> tuple[int, int, int]:
  """The bit field (h, w, D) a `BitChannel` family hides in a height×width cover."""
  if hasattr(task, "bit_shape"):
    return tuple(int(n) for n in task.bit_shape(config, height, width))
  return height, width, int(task.bit_depth(config))


def bits_per_pixel(task: ModuleType, config: Config) -> float:
  """Raw (before error correction) bits per pixel of a `BitChannel` family, on a 64×64 cover."""
  h, w, d = bit_shape(task, config, 64, 64)
  return h * w * d / 4096


class CipherFunctions(NamedTuple):
  """Pure (not jitted) functions of a keyed domain translation, on images in [-1, 1].

  keys(params, images (B, H, W, 3)) -> key images (B, H, W, 3)
  encrypt(params, pasted, public_key, private_key) -> disguise (private_key used only by models trained so)
  decrypt(params, disguise, private_key) -> the recovered cover with its message
  """
  keys: Callable
  encrypt: Callable
  decrypt: Callable


@runtime_checkable
class DomainCipher(Protocol):
  """EncryptGAN-style: a message pasted on a cover is disguised as another domain's image with a public key
  image and recovered with a private one."""

  def cipher_functions(self, config: Config) -> CipherFunctions:
    """The pure key/encrypt/decrypt functions."""

  def message_size(self, config: Config) -> int:
    """Side of the square message region (pasted at the centre at evaluation)."""

  def min_image_side(self, config: Config) -> int:
    """Smallest image height or width the networks take."""

  def key_from_image(self, config: Config, params: Any, image: Any) -> Any:
    """Key image (H, W, 3) uint8 of an (H, W, 3) uint8 image."""

  def encrypt_image(self, config: Config, params: Any, pasted: Any, public_key: Any,
                    private_key: Any = None) -> Any:
    """Disguise (H, W, 3) uint8 of a cover with its message pasted."""

  def decrypt_image(self, config: Config, params: Any, disguise: Any, private_key: Any) -> Any:
    """The recovered cover with its message, (H, W, 3) uint8."""

  def message_side(self, config: Config, cover_hw: tuple[int, int]) -> int:
    """The trained message/cover ratio applied to a cover's shorter side."""

  def paste_message(self, cover: Any, message: Any, side: int) -> tuple[Any, tuple[int, int]]:
    """The message resized to side×side and pasted at the cover's centre; and (top, left)."""


CAPABILITY_NAMES = {ImageHider: "hides images (ImageHider)", Keyed: "takes a key (Keyed)",
                    BitChannel: "hides bits (BitChannel)", DomainCipher: "disguises pasted messages (DomainCipher)"}


def get_task(name: str) -> ModuleType:
  """The task module `jaxsteg.tasks.<name>`; `errors.ConfigError` when there is none."""
  try:
    module = importlib.import_module(f"jaxsteg.tasks.{name}")
  except ModuleNotFoundError as e:
    if e.name == f"jaxsteg.tasks.{name}":
      raise errors.ConfigError(f"unknown task {name!r}: no module jaxsteg/tasks/{name}.py") from e
    raise
  if not isinstance(module, Task):
    raise errors.ConfigError(f"jaxsteg/tasks/{name}.py is not a task (it lacks {_missing(module, Task)})")
  return module


def _missing(module: ModuleType, protocol: type) -> str:
  names = [n for n in dir(protocol) if not n.startswith("_") and callable(getattr(protocol, n, None))]
  return ", ".join(n for n in sorted(names) if not hasattr(module, n)) or "nothing"


def needs_passphrase(task: ModuleType, config: Config) -> bool:
  """Whether a model of `task` trained with `config` needs a passphrase to hide or reveal (the one place
  this is decided)."""
  return isinstance(task, Keyed) and bool(task.needs_passphrase(config))


def run_needs_passphrase(config: Config) -> bool:
  """`needs_passphrase` for a run's saved config (False when it names no task, or one that does not exist:
  loading the run reports those)."""
  if not config.get("task"):
    return False
  try:
    task = get_task(config.task)
  except errors.ConfigError:
    return False
  return needs_passphrase(task, config)


def require(task: ModuleType, capability: type, what: str) -> None:
  """`errors.ConfigError` unless `task` has `capability`; `what` names who asks (an evaluator, a command)."""
  if not isinstance(task, capability):
    raise errors.ConfigError(f"{what} needs a model that {CAPABILITY_NAMES[capability]}; task "
                             f"{task.__name__.rsplit('.', 1)[-1]!r} is not one")
