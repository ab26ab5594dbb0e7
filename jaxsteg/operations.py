"""What the `jaxsteg` command and `jaxsteg serve` do with a trained run, on arrays: load it (refused unless
its task has the capability asked for), check sizes and passphrases, hide and reveal images or exact text. One
implementation, so the command and the server apply the same checks and say the same things; each mistake is a
`errors.UserError` whose message says what to do. JAX is imported only when a run is loaded (argument checks
come first and stay fast).
"""

from __future__ import annotations

import os
import sys

import numpy as np

from jaxsteg import errors
from jaxsteg import tasks

MAX_PIXELS = 4096 * 4096
IMAGE_NEEDS = ("hide and reveal need a model that hides images (configs/deepstego_*.py, keymixer_*.py, "
               "cloak_image_*.py)")
TEXT_NEEDS = "text needs a bit-payload run (configs/bits_*.py)"


def note(message: str) -> None:
  """A note for the user on stderr (mode conversions, resizing)."""
  print(f"jaxsteg: note: {message}", file=sys.stderr)


def check_size(img: np.ndarray, what: str) -> None:
  """Any size works (the task pads to its networks' multiple and crops back), up to a memory limit."""
  h, w = img.shape[:2]
  if h * w > MAX_PIXELS:
    raise errors.UserError(f"{what} is {w}x{h} pixels, more than this command handles ({MAX_PIXELS} pixels); "
                           f"downscale it first")


def resize_to(img: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
  from PIL import Image  # pylint: disable=g-import-not-at-top
  return np.asarray(Image.fromarray(img).resize((hw[1], hw[0]), Image.Resampling.LANCZOS))


CACHE_ENV = "JAXSTEG_CACHE"


def compilation_cache_dir() -> str | None:
  """Where the `jaxsteg` command keeps compiled programs: $JAXSTEG_CACHE (`off`: nowhere), else
  $XDG_CACHE_HOME/jaxsteg/jax, else ~/.cache/jaxsteg/jax."""
  chosen = os.environ.get(CACHE_ENV)
  if chosen:
    return None if chosen.lower() in ("off", "0", "none") else chosen
  base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
  return os.path.join(base, "jaxsteg", "jax")


def enable_compilation_cache() -> None:
  """JAX's persistent compilation cache in `compilation_cache_dir()`, so a command's second run loads its
  programs from disk instead of compiling them (a JAX_COMPILATION_CACHE_DIR set by the caller wins). Every
  program is kept, however quick its compile: `hide` compiles ~18 small programs of 20-50 ms each, which JAX's
  default threshold (1 s) would compile again on every call (0.7 s of a 3 s command)."""
  import jax  # pylint: disable=g-import-not-at-top
  if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
    return
  path = compilation_cache_dir()
  if path is None:
    return
  try:
    os.makedirs(path, exist_ok=True)
  except OSError:
    return   # An unwritable home: compile every time rather than fail.
  jax.config.update("jax_compilation_cache_dir", path)
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)


def load_run(workdir: str, capability: type, needs: str, step: int | None = None):
  """The run in `workdir` (latest checkpoint or `step`, one device), refused unless its task has `capability`.

  `needs` completes the refusal, e.g. "text needs a bit-payload run (configs/bits_*.py)".
  """
  from jaxsteg import inference  # pylint: disable=g-import-not-at-top  (JAX import is slow: after arg checks)
  from jaxsteg import tasks  # pylint: disable=g-import-not-at-top
  enable_compilation_cache()
  run = inference.load_run(workdir) if step is None else inference.load_run(workdir, step)
  if not isinstance(tasks.get_task(run.config.task), capability):
    raise errors.UserError(f"workdir {workdir!r} holds a {run.config.task!r} model; {needs}")
  return run


def check_passphrase_wanted(config, given: bool, where: str, drop: str) -> bool:
  """Whether the model of `config` (in `where`) needs a passphrase; `UserError` (ending in `drop`, how to
  leave it out) when one is `given` to a model that takes none."""
  from jaxsteg import tasks  # pylint: disable=g-import-not-at-top
  if tasks.run_needs_passphrase(config):
    return True
  if given:
    raise errors.UserError(f"the model in {where!r} takes no passphrase (its key mode is "
                           f"{config.get('model', {}).get('key_mode') or 'none'}); {drop}")
  return False


def key_for(run, passphrase: str | None):
  """The key a Keyed model hides and reveals with (None for other models)."""
  from jaxsteg import tasks  # pylint: disable=g-import-not-at-top
  return run.task.key_for_use(run.config, run.params, passphrase) if isinstance(run.task, tasks.Keyed) else None


def hide_images(run, key, cover: np.ndarray, secrets: list[np.ndarray], names: list[str], cover_name: str
                ) -> np.ndarray:
  """The container (H, W, 3) uint8 of a cover and its secrets (uint8 arrays; `names` label them in notes and
  errors): the checks and resizing of `jaxsteg hide`, shared with the server."""
  from jaxsteg.tasks import common as task_common  # pylint: disable=g-import-not-at-top
  k = run.task.num_secrets(run.config)
  if len(secrets) != k:
    raise errors.UserError(f"this model hides {k} secret image(s); got {len(secrets)} --secret")
  check_size(cover, f"cover {cover_name!r}")
  secrets = list(secrets)
  for i, s in enumerate(secrets):
    if s.shape[:2] != cover.shape[:2]:
      note(f"secret {names[i]} resized from {s.shape[1]}x{s.shape[0]} to the cover's "
                  f"{cover.shape[1]}x{cover.shape[0]}")
      secrets[i] = resize_to(s, cover.shape[:2])
  return task_common.hide_images(run.task, run.config, run.params, cover, np.stack(secrets), key)


def reveal_images(run, key, stego: np.ndarray, stego_name: str) -> list[np.ndarray]:
  """The revealed secret(s) of a container (H, W, 3) uint8, as `jaxsteg reveal` computes them."""
  from jaxsteg.tasks import common as task_common  # pylint: disable=g-import-not-at-top
  check_size(stego, f"stego image {stego_name!r}")
  return task_common.reveal_images(run.task, run.config, run.params, stego, key)


def check_channels(run, cover):
  if run.config.data.channels == 1:
    from jaxsteg.data import datasets  # pylint: disable=g-import-not-at-top
    return datasets.to_rgb(cover, 1)
  return cover


def survive_distortion(spec: str | None):
  """The real distortion (`jaxsteg.attacks.distortions`) named by `--survive SPEC`, or None; `UserError` for a
  spec it does not know."""
  if not spec:
    return None
  from jaxsteg.attacks import distortions  # pylint: disable=g-import-not-at-top
  try:
    return distortions.get(spec)
  except errors.ConfigError as e:
    raise errors.UserError(f"--survive {spec!r}: {e}") from e


def hide_text(run, cover: np.ndarray, text: str, passphrase: str | None, cover_name: str,
              survive: str | None = None) -> np.ndarray:
  """The container (H, W, 3) uint8 (one channel: (H, W)) of `text` in a cover, planned for the bit error rate
  measured on it (after the distortion `survive`, e.g. 'jpeg:90', when given) and read back (also through that
  distortion) before it is returned: `jaxsteg hide-text`, shared with the server."""
  from jaxsteg.payload import channel, codec  # pylint: disable=g-import-not-at-top,multiple-imports
  distortion = survive_distortion(survive)
  check_size(cover, f"cover {cover_name!r}")
  cover = check_channels(run, cover)
  h, w = cover.shape[:2]
  bpp = tasks.bits_per_pixel(run.task, run.config)
  if not np.prod(tasks.bit_shape(run.task, run.config, h, w)):
    raise errors.UserError(f"cover {cover_name!r} ({w}x{h} pixels) is too small to hold any bits with this model "
                           f"(it hides bits in whole 8x8 blocks); use a cover at least 8x8 pixels")
  # The capacity of this cover with this checkpoint: the bit error rate measured on the refined container,
  # planned for with a margin (`channel.hide_text`).
  try:
    container, logits, _ = channel.hide_text(run.config, run.params, cover, text, passphrase,
                                             channel.host_channel(run.config), survive=distortion)
  except codec.PayloadTooLarge as e:
    after = f" after {distortion.name}" if distortion else ""
    raise errors.UserError(f"{e} ({w}x{h} pixels, {bpp:g} bits per pixel, {e.measured:.2%} raw bit errors "
                           f"measured on it{after}); shorten the text or use a larger or less busy cover") from e
  readings = [logits]
  if distortion is not None:
    readings.append(channel.reveal_logits(run.config, run.params, distortion.apply(container[None], seed=0)[0]))
  try:  # Read it back before writing anything: a written container is known to be readable.
    ok = all(codec.decode_text(r, passphrase=passphrase) == text for r in readings)
  except codec.PayloadError:
    ok = False
  if not ok:
    raise errors.UserError("this cover cannot carry the message reliably (too many bit errors on it); try "
                           "another cover, a larger one, or a shorter text")
  return container[..., 0] if container.shape[-1] == 1 else container


def reveal_text(run, stego: np.ndarray, passphrase: str | None, stego_name: str) -> str:
  """The exact text hidden in a container (H, W, 3) uint8, or `UserError`: `jaxsteg reveal-text`."""
  from jaxsteg.payload import channel, codec  # pylint: disable=g-import-not-at-top,multiple-imports
  check_size(stego, f"stego image {stego_name!r}")
  logits = channel.reveal_logits(run.config, run.params, check_channels(run, stego))
  try:
    return codec.decode_text(logits, passphrase=passphrase)
  except codec.PassphraseRequired as e:
    raise errors.UserError(f"{e}: give --passphrase-file") from e
