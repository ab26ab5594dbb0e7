"""A trained bit model (a `BitChannel` task) as a channel for host arrays: uint8 covers and bits in, uint8
containers out; containers in, bit logits out. This is what `jaxsteg hide-text` / `reveal-text` and the
`text_recovery` evaluator send text through.

Encoding refines each container when `config.eval.refine_steps` > 0 (`jaxsteg.payload.refine`). Batches are
split over the given devices, one container per device at a time. The capacity of a cover is known before
embedding: `probe_ber` measures the model's bit error rate on that very cover (random bits in, refined like a
message container, decoded) and `design_ber` adds the planning margin.

`hide_text` embeds a message with one refinement instead of two (a probe, then the message): the message is
planned for the highest error rate at which it still fits (`plan.max_ber`), embedded, and the error rate of
that very container is the measurement: when its planning rate (`design_ber`) is within what the code was
planned for, the message meets the target there (fitting is monotone in the rate); otherwise it does not fit
this cover at its measured rate and is refused, as a probe would have refused it. The encoder's own container
is read first: the refinement runs only when it has more bit errors than refining would stop at.
"""

from __future__ import annotations

import functools
from typing import Callable, NamedTuple

import jax
import ml_collections
import numpy as np

from jaxsteg import metrics
from jaxsteg import tasks
from jaxsteg.payload import codec
from jaxsteg.payload import plan as plan_lib
from jaxsteg.payload import refine
from jaxsteg.payload import spec
from jaxsteg.tasks import common

PROBE_MARGIN = (1.5, 0.005)   # [inf] Plan for 1.5 × the probed bit error rate + 0.5 %.


class HostChannel(NamedTuple):
  """Batch functions on `devices` (the batch is split over them): encode (refining when the config says so)
  and decode; encode_upto(params, covers, bits, enough) refines only until at most `enough` bit errors per
  container remain (`with_tolerance`); embed(params, covers, bits) is the encoder's own 8-bit container, never
  refined (`unrefined`). Each is one jitted program, except a refining encode: jitted steps in a host loop
  (`jaxsteg.payload.refine`)."""
  encode: Callable
  decode: Callable
  devices: int
  encode_upto: Callable | None = None
  embed: Callable | None = None


def with_tolerance(fns: HostChannel, max_errors: int) -> HostChannel:
  """`fns` whose encode stops refining once a container has at most `max_errors` bit errors (instead of the
  config's own tolerance): the code that carries the message corrects the rest."""
  if fns.encode_upto is None:
    return fns
  return fns._replace(encode=functools.partial(fns.encode_upto, enough=np.int32(max_errors)))


def unrefined(fns: HostChannel) -> HostChannel:
  """`fns` whose encode is the encoder's own container, not refined (a program without the refinement loop,
  so quicker to trace, to compile and to run)."""
  return fns if fns.embed is None else fns._replace(encode=fns.embed)


def host_channel(config: ml_collections.ConfigDict, devices=None) -> HostChannel:
  """The channel of the run `config` describes; `devices` (default: the first local device) share each
  batch. Compiled once per config and device set."""
  devices = tuple(devices) if devices else tuple(jax.local_devices()[:1])
  return _cached_channel(config, devices)


@common.per_config
def _cached_channel(config: ml_collections.ConfigDict, devices: tuple) -> HostChannel:
  task = tasks.get_task(config.task)
  tasks.require(task, tasks.BitChannel, "a text channel")
  fns = task.bit_functions(config)
  mesh = jax.sharding.Mesh(np.asarray(devices), ("batch",))
  split = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("batch"))
  whole = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
  embed = jax.jit(lambda p, c, b: metrics.quantize_8bit(fns.hide(p, c, b)), in_shardings=(whole, split, split),
                  out_shardings=split)
  if config.eval.get("refine_steps", 0) > 0:
    pieces = refine.programs(config, fns)
    jitted = refine.Programs(jax.jit(pieces.start, in_shardings=(whole, split, split)), jax.jit(pieces.step),
                             jax.jit(pieces.finish))

    def encode_upto(p, c, b, enough=None):
      # Placed once: the steps keep the shardings of their inputs.
      p, c, b = jax.device_put(p, whole), jax.device_put(c, split), jax.device_put(b, split)
      return refine.run(config, jitted, p, c, b, enough)[0]
  else:
    encode_upto = lambda p, c, b, enough=None: embed(p, c, b)  # pylint: disable=unnecessary-lambda-assignment
  return HostChannel(lambda p, c, b: encode_upto(p, c, b),
                     jax.jit(lambda p, c: fns.reveal(p, c), in_shardings=(whole, split), out_shardings=split),
                     len(devices), encode_upto, embed)


def _padded(x: np.ndarray, multiple: int) -> np.ndarray:
  pad = -len(x) % multiple
  return np.concatenate([x, np.repeat(x[:1], pad, axis=0)]) if pad else x


def hide_bits_batch(config, params, covers: np.ndarray, bits: np.ndarray, fns: HostChannel | None = None
                    ) -> np.ndarray:
  """Covers (N, H, W, C) uint8 and bits (N, h, w, D) (the model's field) -> 8-bit containers (N, H, W, C)
  uint8 (refined when `eval.refine_steps` > 0)."""
  fns = fns or host_channel(config)
  n, k = len(covers), fns.devices
  c = _padded(np.asarray(covers, np.float32) / 255.0, k)
  b = _padded(np.asarray(bits, np.float32), k)
  # One container per device at a time: a refinement stops as soon as its own containers decode without
  # error, so easy covers do not wait for hard ones (one compiled shape for every chunk).
  out = [np.asarray(fns.encode(params, c[i:i + k], b[i:i + k])) for i in range(0, len(c), k)]
  return np.round(np.concatenate(out) * 255.0).astype(np.uint8)[:n]


def reveal_logits_batch(config, params, containers: np.ndarray, fns: HostChannel | None = None) -> np.ndarray:
  """Containers (N, H, W, C) uint8 -> bit logits (N, h, w, D) float32 (> 0 means 1)."""
  fns = fns or host_channel(config)
  n = len(containers)
  return np.asarray(fns.decode(params, _padded(np.asarray(containers, np.float32) / 255.0, fns.devices)))[:n]


def hide_bits(config, params, cover: np.ndarray, bits: np.ndarray, fns: HostChannel | None = None) -> np.ndarray:
  """One cover (H, W, C) uint8 and bits (h, w, D) -> its 8-bit container (H, W, C) uint8."""
  return hide_bits_batch(config, params, cover[None], bits[None], fns)[0]


def reveal_logits(config, params, container: np.ndarray, fns: HostChannel | None = None) -> np.ndarray:
  """One container (H, W, C) uint8 -> bit logits (h, w, D) float32 (> 0 means 1)."""
  return reveal_logits_batch(config, params, container[None], fns)[0]


def probe_bits(config, shape: tuple[int, int], seed: int) -> np.ndarray:
  """The random bits (the model's field, `tasks.bit_shape`) a cover of this size is probed with."""
  h, w = shape
  field = tasks.bit_shape(tasks.get_task(config.task), config, h, w)
  return np.random.default_rng([seed, h, w]).integers(0, 2, field, dtype=np.uint8)


def probe_bers(config, params, covers: np.ndarray, seeds, fns=None, survive=None) -> np.ndarray:
  """The bit error rate of this model on each cover (N, H, W, C): random bits in, the 8-bit container out
  (refined as a message container is), decoded. Text bits are whitened (and random when encrypted), so this
  is the error rate a message will see there. `survive` (a `jaxsteg.attacks.distortions` distortion): the
  rate after that distortion of the container (what a message planned to survive it will see)."""
  bits = np.stack([probe_bits(config, covers.shape[1:3], s) for s in seeds])
  containers = hide_bits_batch(config, params, covers, bits, fns)
  if survive is not None:
    containers = survive.apply(containers, seed=0)
  logits = reveal_logits_batch(config, params, containers, fns)
  return np.mean((logits > 0) != (bits > 0), axis=(1, 2, 3))


def probe_ber(config, params, cover: np.ndarray, fns=None, seed: int = 0, survive=None) -> float:
  """`probe_bers` of one cover (H, W, C)."""
  bits = probe_bits(config, cover.shape[:2], seed)
  container = hide_bits(config, params, cover, bits, fns)
  if survive is not None:
    container = survive.apply(container[None], seed=0)[0]
  logits = reveal_logits(config, params, container, fns)
  return float(np.mean((logits > 0) != (bits > 0)))


def design_ber(probed: float) -> float:
  """The bit error rate a message is planned for on a cover whose probe gave `probed`."""
  return float(min(0.5, PROBE_MARGIN[0] * probed + PROBE_MARGIN[1]))


def hide_text(config, params, cover: np.ndarray, text: str, passphrase: str | None = None,
              fns: HostChannel | None = None, target_failure: float = spec.DEFAULT_TARGET_FAILURE,
              survive=None) -> tuple[np.ndarray, np.ndarray, float]:
  """`text` in one cover (H, W, C) uint8: (8-bit container, its decoded logits, its raw bit error rate).

  `codec.PayloadTooLarge` (with `.measured`, the raw bit error rate measured on this cover) when the message
  does not fit at the planning rate of the error rate measured on this cover. `survive` (a distortion of
  `jaxsteg.attacks.distortions`, e.g. `get("jpeg:90")`): the message must survive it, so the error rate that
  counts (and the one returned) is that of the container after the distortion, and the container is refined as
  far as the config allows rather than only until the clean container decodes."""
  field = tasks.bit_shape(tasks.get_task(config.task), config, *cover.shape[:2])
  encrypted = passphrase is not None
  payload, compressed = codec.prepare_payload(text)
  ber = plan_lib.max_ber(plan_lib.body_length(len(payload), encrypted), int(np.prod(field)), target_failure)

  def too_large(measured: float) -> codec.PayloadTooLarge:
    cap = plan_lib.capacity(*field, ber=design_ber(measured), encrypted=encrypted,
                            target_failure=target_failure)
    e = codec.PayloadTooLarge(len(payload), cap, "message" + (" (compressed)" if compressed else ""))
    e.measured = measured
    return e

  if ber is None:   # Too long even for an error-free channel: measure the cover for the message's sake.
    raise too_large(probe_ber(config, params, cover, fns, survive=survive))
  bits = codec.encode_text(text, field, ber=ber, passphrase=passphrase, target_failure=target_failure)
  # Refine only as far as the code needs: until the planning rate of the errors left is within `ber`.
  allowed = 0 if survive is not None else int(max(0.0, (ber - PROBE_MARGIN[1]) / PROBE_MARGIN[0]) * bits.size)
  fns = fns or host_channel(config)
  # The encoder's own container first, read as the receiver reads it: when it has no more errors than the
  # refinement would stop at (the usual case for a message planned with a margin), refining would not take a
  # step, and neither the refinement program nor its first pass of the decoder is needed.
  container = hide_bits(config, params, cover, bits, unrefined(fns))
  logits = reveal_logits(config, params, container, fns)
  if config.eval.get("refine_steps", 0) > 0 and np.sum((logits > 0) != (bits > 0)) > allowed:
    container = hide_bits(config, params, cover, bits, with_tolerance(fns, allowed))
    logits = reveal_logits(config, params, container, fns)
  received = logits if survive is None else reveal_logits(config, params, survive.apply(container[None],
                                                                                          seed=0)[0], fns)
  measured = float(np.mean((received > 0) != (bits > 0)))
  if design_ber(measured) > ber:
    raise too_large(measured)
  return container, logits, measured
