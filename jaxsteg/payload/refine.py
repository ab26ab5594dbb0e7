"""Hide-time refinement of bit containers [inf] (after Kishore et al. 2021, "Fixed Neural Network Steganography").

With the decoder in hand, a sender can improve the encoder's container: gradient steps on its pixels until
the decoder reads it back (almost) without error, its PSNR held above a floor. Used by every text container
(`jaxsteg.payload.channel`): the capacity probe, `jaxsteg hide-text` and the text evaluation. Settings:
`config.eval.refine_*` (0 steps: off, the encoder's container as SteganoGAN sends it).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from jaxsteg import metrics
from jaxsteg import tasks


def tolerated_errors(config, bits_per_container: int) -> int:
  """The bit errors per container that the refinement leaves to the error correction (`eval.refine_tolerance`):
  it stops once every container has at most these (or the caller's `enough`, when more)."""
  return int(config.eval.get("refine_tolerance", 0.0) * bits_per_container)


def refine_container(config, fns: tasks.BitFunctions, params, cover: jnp.ndarray, bits: jnp.ndarray,
                     enough=None) -> tuple[jnp.ndarray, jnp.ndarray]:
  """[inf] Hide-time refinement of containers (after Kishore et al. 2021, "Fixed Neural Network
  Steganography"): starting from the encoder's container, Adam steps on the container's pixels lower a hinge
  on the decoder's logits of the 8-bit rounded container (straight-through), max(0, margin − (2m − 1)·logit),
  while a second hinge keeps each container's PSNR at or above `eval.refine_psnr`. Stops after
  `eval.refine_steps` or once every rounded container decodes with at most `eval.refine_tolerance` of its
  bits wrong (the error correction takes the rest); returns, per container,
  the rounded container with the fewest bit errors seen, and that count. `enough` (a scalar, traced: no
  recompilation) replaces the tolerated count of bit errors per container when the caller's code tolerates
  more. The networks are unchanged: this is
  what a sender can do with the decoder in hand.

  cover (B, H, W, C) in [0, 1], bits (B, H, W, D) in {0, 1} -> (containers on the 8-bit grid, errors (B,)).
  Each example's loss is its own (summed over the batch; Adam is elementwise), so examples do not interact.
  """
  ev = config.eval
  signs = 2.0 * bits - 1.0
  target_mse = 10.0 ** (-ev.refine_psnr / 10.0)
  tx = optax.adam(ev.refine_lr)
  axes = (1, 2, 3)

  def objective(x):
    q = metrics.straight_through_8bit(x)
    logits = fns.reveal(params, q)
    per_example = (jnp.mean(jax.nn.relu(ev.refine_margin - signs * logits), axis=axes)
                   + 1e4 * jax.nn.relu(jnp.mean(jnp.square(q - cover), axis=axes) - target_mse))
    return jnp.sum(per_example), jnp.sum((logits > 0) != (bits > 0.5), axis=axes)

  def keep_best(x, err, best_x, best_err):
    better = err < best_err
    return jnp.where(better[:, None, None, None], x, best_x), jnp.where(better, err, best_err)

  tolerated = tolerated_errors(config, bits[0].size)
  enough = tolerated if enough is None else jnp.maximum(tolerated, enough)

  def cond(carry):
    i, _, _, _, best_err = carry
    return (i < ev.refine_steps) & jnp.any(best_err > enough)

  def body(carry):
    i, x, opt_state, best_x, best_err = carry
    (_, err), grad = jax.value_and_grad(objective, has_aux=True)(x)
    best_x, best_err = keep_best(x, err, best_x, best_err)
    updates, opt_state = tx.update(grad, opt_state)
    return i + 1, jnp.clip(x + updates, 0.0, 1.0), opt_state, best_x, best_err

  x0 = fns.hide(params, cover, bits)
  _, err0 = objective(x0)
  carry = (jnp.zeros((), jnp.int32), x0, tx.init(x0), x0, err0)
  steps, x, _, best_x, best_err = jax.lax.while_loop(cond, body, carry)
  # The last update is checked too; without any (the encoder's container already decodes well enough, the usual
  # case of a message planned with a margin) x is x0, checked above: one pass of the decoder fewer.
  best_x, best_err = jax.lax.cond(steps > 0, lambda: keep_best(x, objective(x)[1], best_x, best_err),
                                  lambda: (best_x, best_err))
  return metrics.quantize_8bit(best_x), best_err
