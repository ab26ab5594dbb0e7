"""Losses shared by the families. Images are float in [0, 1] unless said otherwise."""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from jaxsteg import metrics


def mse(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
  """Mean squared error over all elements (a scalar)."""
  return jnp.mean(jnp.square(a - b))


def l1(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
  return jnp.mean(jnp.abs(a - b))


def steganalyser_game(apply: Callable, params, cover: jnp.ndarray, container: jnp.ndarray) -> dict:
  """[inf] A hider against a steganalyser in one gradient (SteganoGAN's critic, HiDDeN's adversary, with a
  detector). `apply(params, pixels (B, H, W, C) on 0..255) -> logits (B,)`, > 0 meaning "container"; cover and
  container in [0, 1], the container sent as 8 bits (straight-through).

  'fool': −log P(cover | container) under the detector's frozen parameters: the hider's term.
  'detector': the detector's binary cross-entropy, cover vs stop_gradient(container): its own term.
  'accuracy': the detector's accuracy on this batch. Adding both terms to one loss gives each network exactly
  its own objective."""
  sent = metrics.straight_through_8bit(container) * 255.0
  fool = jnp.mean(jax.nn.softplus(apply(jax.lax.stop_gradient(params), sent)))
  cover_logits = apply(params, cover * 255.0)
  container_logits = apply(params, jax.lax.stop_gradient(sent))
  detector = jnp.mean(jax.nn.softplus(cover_logits)) + jnp.mean(jax.nn.softplus(-container_logits))
  accuracy = 0.5 * (jnp.mean((cover_logits < 0).astype(jnp.float32))
                    + jnp.mean((container_logits > 0).astype(jnp.float32)))
  return {"fool": fool, "detector": detector, "accuracy": accuracy}


def lsgan_generator(fake_logits: jnp.ndarray) -> jnp.ndarray:
  """LSGAN generator loss: (D(fake) − 1)²."""
  return jnp.mean(jnp.square(fake_logits - 1.0))


def lsgan_discriminator(real_logits: jnp.ndarray, fake_logits: jnp.ndarray) -> jnp.ndarray:
  """LSGAN discriminator loss, halved as in CycleGAN: ½[(D(real) − 1)² + D(fake)²]."""
  return 0.5 * (jnp.mean(jnp.square(real_logits - 1.0)) + jnp.mean(jnp.square(fake_logits)))
