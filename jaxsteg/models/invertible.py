"""Invertible hiding networks, HiNet-class (Jing et al., ICCV 2021): a Haar wavelet transform and affine coupling
blocks whose inverse, with the same parameters, reveals what the forward pass hid.

Haar DWT: orthonormal, one level, by strided slices: (B, H, W, C) -> (B, H/2, W/2, 4C), band-major
[LL | HL | LH | HH] (each C channels), so the LL band of every colour is `[..., :C]`. Its inverse (IWT) is its
transpose. Written here (ten lines) rather than taken from a wavelet library: it must be jittable, exact and
differentiable.

Coupling block on (x1, x2) (cover half, secret half), with φ, ρ, η dense 5-conv blocks:
  y1 = x1 + φ(x2)
  y2 = x2 ⊙ exp(clamp · (2σ(ρ(y1)) − 1)) + η(y1)
inverse: x2 = (y2 − η(y1)) ⊙ exp(−clamp · (2σ(ρ(y1)) − 1)); x1 = y1 − φ(x2). No log-determinant is needed.
A dense block: 4 × (Conv3×3, `growth` filters, LeakyReLU 0.01), each on the concatenation of its input and all
earlier outputs, then Conv3×3 to the output channels, zero-initialised, so every block starts as the identity.
HiNet: 16 blocks, growth 32, clamp 2.0 (≈ 4.05 M parameters on RGB).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp


def dwt(x: jnp.ndarray) -> jnp.ndarray:
  """Orthonormal one-level Haar DWT: (B, H, W, C) with even H, W -> (B, H/2, W/2, 4C) [LL | HL | LH | HH]."""
  a, b = x[:, 0::2, 0::2], x[:, 0::2, 1::2]
  c, d = x[:, 1::2, 0::2], x[:, 1::2, 1::2]
  return 0.5 * jnp.concatenate([a + b + c + d, -a + b - c + d, -a - b + c + d, a - b - c + d], axis=-1)


def iwt(y: jnp.ndarray) -> jnp.ndarray:
  """Inverse of `dwt`: (B, h, w, 4C) -> (B, 2h, 2w, C)."""
  ll, hl, lh, hh = jnp.split(y, 4, axis=-1)
  a, b = 0.5 * (ll - hl - lh + hh), 0.5 * (ll + hl - lh - hh)
  c, d = 0.5 * (ll - hl + lh - hh), 0.5 * (ll + hl + lh + hh)
  bsz, h, w, ch = ll.shape
  top = jnp.stack([a, b], axis=3).reshape(bsz, h, 2 * w, ch)
  bottom = jnp.stack([c, d], axis=3).reshape(bsz, h, 2 * w, ch)
  return jnp.stack([top, bottom], axis=2).reshape(bsz, 2 * h, 2 * w, ch)


def low_band(y: jnp.ndarray) -> jnp.ndarray:
  """The LL band (B, h, w, C) of a `dwt` output."""
  return y[..., :y.shape[-1] // 4]


class DenseBlock(nn.Module):
  """HiNet's 5-conv dense block; the last conv is zero-initialised (`zero_init=False` for tests)."""
  features: int
  growth: int = 32
  zero_init: bool = True

  @nn.compact
  def __call__(self, x):
    feats = [x]
    for _ in range(4):
      h = nn.Conv(self.growth, (3, 3), padding="SAME")(jnp.concatenate(feats, -1))
      feats.append(nn.leaky_relu(h, 0.01))
    init = nn.initializers.zeros if self.zero_init else nn.linear.default_kernel_init
    return nn.Conv(self.features, (3, 3), padding="SAME", kernel_init=init)(jnp.concatenate(feats, -1))


class CouplingBlock(nn.Module):
  """One affine coupling block: forward (`__call__`) and its exact inverse (`inverse`), same parameters."""
  features1: int
  features2: int
  growth: int = 32
  clamp: float = 2.0
  zero_init: bool = True

  def setup(self):
    self.phi = DenseBlock(self.features1, self.growth, self.zero_init)
    self.rho = DenseBlock(self.features2, self.growth, self.zero_init)
    self.eta = DenseBlock(self.features2, self.growth, self.zero_init)

  def _log_scale(self, y1):
    return self.clamp * (2.0 * jax.nn.sigmoid(self.rho(y1)) - 1.0)

  def __call__(self, x1, x2):
    y1 = x1 + self.phi(x2)
    return y1, x2 * jnp.exp(self._log_scale(y1)) + self.eta(y1)

  def inverse(self, y1, y2):
    x2 = (y2 - self.eta(y1)) * jnp.exp(-self._log_scale(y1))
    return y1 - self.phi(x2), x2


class InvertibleHider(nn.Module):
  """`blocks` coupling blocks on (cover bands, secret bands) in the Haar domain.

  forward(cover_bands, secret_bands) -> (container bands, discarded bands r)
  inverse(container_bands, z) -> (cover bands, secret bands): reveal with z in place of the discarded r.
  """
  features1: int
  features2: int
  blocks: int = 16
  growth: int = 32
  clamp: float = 2.0
  zero_init: bool = True

  def setup(self):
    self.layers = [
        CouplingBlock(self.features1, self.features2, self.growth, self.clamp, self.zero_init)
        for _ in range(self.blocks)]

  def __call__(self, x1, x2):
    for layer in self.layers:
      x1, x2 = layer(x1, x2)
    return x1, x2

  def inverse(self, y1, y2):
    for layer in reversed(self.layers):
      y1, y2 = layer.inverse(y1, y2)
    return y1, y2


def make_network(model, channels: int, zero_init: bool = True) -> InvertibleHider:
  """The network of a `config.model` block (blocks, growth, clamp) for images with `channels` channels."""
  bands = 4 * channels
  return InvertibleHider(bands, bands, blocks=model.blocks, growth=model.growth, clamp=model.clamp,
                         zero_init=zero_init)
