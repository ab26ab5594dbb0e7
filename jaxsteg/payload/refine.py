"""Hide-time refinement of bit containers [inf] (after Kishore et al. 2021, "Fixed Neural Network Steganography").

With the decoder in hand, a sender can improve the encoder's container: gradient steps on its pixels until
the decoder reads it back (almost) without error, its PSNR held above a floor. Used by every text container
(`jaxsteg.payload.channel`): the capacity probe, `jaxsteg hide-text` and the text evaluation. Settings:
`config.eval.refine_*` (0 steps: off, the encoder's container as SteganoGAN sends it).

The refinement is three programs (`Programs`: start, one step, finish) driven by a loop on the host (`run`),
not one program with a `while_loop`: XLA on CPU runs the decoder's gradient ~8x slower as the body of a loop
than as a program of its own (7 s against 0.8 s a step on a 640×400 cover), and a step costs far more than
the call and the one number (the bit errors left) that the host reads back after it.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxsteg import metrics
from jaxsteg import tasks


def tolerated_errors(config, bits_per_container: int) -> int:
  """The bit errors per container that the refinement leaves to the error correction (`eval.refine_tolerance`):
  it stops once every container has at most these (or the caller's `enough`, when given)."""
  return int(config.eval.get("refine_tolerance", 0.0) * bits_per_container)


class Programs(NamedTuple):
  """The refinement of containers as pure functions of (params, cover (B, H, W, C) in [0, 1], bits (B, H, W, D)
  in {0, 1}, ...), each to be jitted (`run` calls them):

  start(params, cover, bits) -> state: the encoder's containers and their bit errors
  step(params, cover, bits, state) -> state: one Adam step on every container
  finish(params, cover, bits, state, stepped) -> (containers on the 8-bit grid, errors (B,)): per container the
      rounded container with the fewest bit errors seen, the last update checked too when `stepped`

  A state is (x, Adam state, best x, its errors (B,)).
  """
  start: Callable
  step: Callable
  finish: Callable


def programs(config, fns: tasks.BitFunctions) -> Programs:
  """[inf] The refinement (after Kishore et al. 2021, "Fixed Neural Network Steganography"): starting from the
  encoder's container, Adam steps on the container's pixels lower a hinge on the decoder's logits of the 8-bit
  rounded container (straight-through), max(0, margin − (2m − 1)·logit), while a second hinge keeps each
  container's PSNR at or above `eval.refine_psnr`. The networks are unchanged: this is what a sender can do
  with the decoder in hand. Each example's loss is its own (summed over the batch; Adam is elementwise), so
  examples do not interact."""
  ev = config.eval
  target_mse = 10.0 ** (-ev.refine_psnr / 10.0)
  tx = optax.adam(ev.refine_lr)
  axes = (1, 2, 3)

  def objective(params, cover, bits, x):
    q = metrics.straight_through_8bit(x)
    logits = fns.reveal(params, q)
    per_example = (jnp.mean(jax.nn.relu(ev.refine_margin - (2.0 * bits - 1.0) * logits), axis=axes)
                   + 1e4 * jax.nn.relu(jnp.mean(jnp.square(q - cover), axis=axes) - target_mse))
    return jnp.sum(per_example), jnp.sum((logits > 0) != (bits > 0.5), axis=axes)

  def keep_best(x, err, best_x, best_err):
    better = err < best_err
    return jnp.where(better[:, None, None, None], x, best_x), jnp.where(better, err, best_err)

  def start(params, cover, bits):
    x0 = fns.hide(params, cover, bits)
    return x0, tx.init(x0), x0, objective(params, cover, bits, x0)[1]

  def step(params, cover, bits, state):
    x, opt_state, best_x, best_err = state
    (_, err), grad = jax.value_and_grad(objective, argnums=3, has_aux=True)(params, cover, bits, x)
    best_x, best_err = keep_best(x, err, best_x, best_err)
    updates, opt_state = tx.update(grad, opt_state)
    return jnp.clip(x + updates, 0.0, 1.0), opt_state, best_x, best_err

  def finish(params, cover, bits, state, stepped):
    x, _, best_x, best_err = state
    # Without a step x is the encoder's container, checked by `start`: no pass of the decoder.
    best_x, best_err = jax.lax.cond(stepped, lambda: keep_best(x, objective(params, cover, bits, x)[1], best_x,
                                                               best_err), lambda: (best_x, best_err))
    return metrics.quantize_8bit(best_x), best_err

  return Programs(start, step, finish)


def run(config, jitted: Programs, params, cover, bits, enough: int | None = None) -> tuple[jax.Array, jax.Array]:
  """Refines containers with the jitted `programs(config, ...)`: steps until `eval.refine_steps` have run or
  every rounded container decodes with at most `tolerated_errors` of its bits wrong (or `enough`, what the
  caller's code tolerates, more or fewer); returns `finish`'s (containers on the 8-bit grid, errors (B,)). Arguments as
  for `Programs`, already on their devices."""
  limit = tolerated_errors(config, int(np.prod(bits.shape[1:]))) if enough is None else int(enough)
  state = jitted.start(params, cover, bits)
  steps = 0
  while steps < config.eval.refine_steps and np.any(np.asarray(state[3]) > limit):
    state = jitted.step(params, cover, bits, state)
    steps += 1
  return jitted.finish(params, cover, bits, state, np.bool_(steps > 0))
