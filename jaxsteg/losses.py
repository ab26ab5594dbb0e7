"""Losses shared by the families. Images are float in [0, 1] unless said otherwise."""

from __future__ import annotations

import jax.numpy as jnp


def mse(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
  """Mean squared error over all elements (a scalar)."""
  return jnp.mean(jnp.square(a - b))


def l1(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
  return jnp.mean(jnp.abs(a - b))


def lsgan_generator(fake_logits: jnp.ndarray) -> jnp.ndarray:
  """LSGAN generator loss: (D(fake) − 1)²."""
  return jnp.mean(jnp.square(fake_logits - 1.0))


def lsgan_discriminator(real_logits: jnp.ndarray, fake_logits: jnp.ndarray) -> jnp.ndarray:
  """LSGAN discriminator loss, halved as in CycleGAN: ½[(D(real) − 1)² + D(fake)²]."""
  return 0.5 * (jnp.mean(jnp.square(real_logits - 1.0)) + jnp.mean(jnp.square(fake_logits)))
