"""EncryptGAN networks (Zheng et al. 2019): keyed CycleGAN generators, PatchGAN critics, the key generator.

Images are NHWC in [-1, 1]. Instance norm is per example (no batch statistics), so every network is safe under
data parallelism. Widths, depths and strides are arguments, so a CPU-sized variant uses the same code.

- `ResnetGenerator`: CycleGAN's ResNet generator [src S8]: reflect pad, c7s1-ngf, `n_down` × d(2^k·ngf),
  `n_blocks` × R, `n_down` × u, c7s1-3, tanh. Input = image (3) ⊕ key image (3).
- `PatchDiscriminator`: CycleGAN's NLayerDiscriminator (n_layers = 3 is the 70×70 PatchGAN): C64 (no norm),
  C128, C256 (stride 2), C512 (stride 1), conv → 1 logit per patch; LeakyReLU 0.2.
- `KeyGenerator`: 6 × (Conv 4×4 – InstanceNorm – LeakyReLU 0.2) + FC [src S8/S9; layer sizes inf], trained as an
  X/Y domain classifier. `key_image` turns the features of modules 3, 5 and 6 into the 3-channel key image.
"""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp


def instance_norm(x: jnp.ndarray, eps: float = 1e-5) -> jnp.ndarray:
  """Per-example, per-channel normalisation over H, W without affine terms (CycleGAN's default)."""
  mean = jnp.mean(x, axis=(1, 2), keepdims=True)
  var = jnp.var(x, axis=(1, 2), keepdims=True)
  return (x - mean) * jax.lax.rsqrt(var + eps)


def reflect_pad(x: jnp.ndarray, p: int) -> jnp.ndarray:
  return jnp.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), mode="reflect")


_INIT = nn.initializers.normal(0.02)  # CycleGAN's 'normal' init, gain 0.02.


class ResnetBlock(nn.Module):
  features: int

  @nn.compact
  def __call__(self, x):
    h = nn.Conv(self.features, (3, 3), padding="VALID", kernel_init=_INIT)(reflect_pad(x, 1))
    h = nn.relu(instance_norm(h))
    h = nn.Conv(self.features, (3, 3), padding="VALID", kernel_init=_INIT)(reflect_pad(h, 1))
    return x + instance_norm(h)


class ResnetGenerator(nn.Module):
  """(B, H, W, 3) image and (B, H, W, 3) key -> (B, H, W, 3) in [-1, 1]; H, W multiples of 2^n_down."""
  ngf: int = 64
  n_down: int = 2
  n_blocks: int = 9

  @nn.compact
  def __call__(self, image, key):
    x = jnp.concatenate([image, key], axis=-1)
    x = nn.relu(instance_norm(nn.Conv(self.ngf, (7, 7), padding="VALID", kernel_init=_INIT)(reflect_pad(x, 3))))
    for k in range(self.n_down):
      x = nn.Conv(self.ngf * 2 ** (k + 1), (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)),
                  kernel_init=_INIT)(x)
      x = nn.relu(instance_norm(x))
    for _ in range(self.n_blocks):
      x = ResnetBlock(self.ngf * 2 ** self.n_down)(x)
    for k in reversed(range(self.n_down)):
      x = nn.ConvTranspose(self.ngf * 2 ** k, (3, 3), strides=(2, 2), padding="SAME", kernel_init=_INIT)(x)
      x = nn.relu(instance_norm(x))
    x = nn.Conv(3, (7, 7), padding="VALID", kernel_init=_INIT)(reflect_pad(x, 3))
    return jnp.tanh(x)


class PatchDiscriminator(nn.Module):
  """(B, H, W, 3) -> (B, h, w, 1) LSGAN logits, one per receptive-field patch (70×70 for n_layers = 3)."""
  ndf: int = 64
  n_layers: int = 3

  @nn.compact
  def __call__(self, x):
    pad = ((1, 1), (1, 1))
    x = nn.leaky_relu(nn.Conv(self.ndf, (4, 4), strides=(2, 2), padding=pad, kernel_init=_INIT)(x), 0.2)
    for n in range(1, self.n_layers + 1):
      stride = 2 if n < self.n_layers else 1
      x = nn.Conv(self.ndf * min(2 ** n, 8), (4, 4), strides=(stride, stride), padding=pad,
                  kernel_init=_INIT)(x)
      x = nn.leaky_relu(instance_norm(x), 0.2)
    return nn.Conv(1, (4, 4), padding=pad, kernel_init=_INIT)(x)


class KeyGenerator(nn.Module):
  """The key network: returns (domain logits (B, 2), [features of the 6 modules])."""
  features: Sequence[int] = (64, 128, 256, 256, 256, 256)
  strides: Sequence[int] = (2, 2, 2, 2, 2, 2)
  padding: str = "REFLECT"   # [inf] zero padding made border artefacts the extremes of the min-max scaled keys.

  @nn.compact
  def __call__(self, x):
    feats = []
    for f, s in zip(self.features, self.strides):
      conv = nn.Conv(f, (4, 4), strides=(s, s), padding=self.padding, kernel_init=_INIT)
      x = nn.leaky_relu(instance_norm(conv(x)), 0.2)
      feats.append(x)
    # FC on the globally pooled last features [inf]: any input size (the CLI derives keys of any image size).
    logits = nn.Dense(2)(jnp.mean(x, axis=(1, 2)))
    return logits, feats


KEY_LAYERS = (3, 5, 6)  # 1-based module indices whose features make the key image [src S9].


def key_image(feats: Sequence[jnp.ndarray], hw: tuple[int, int], layers: Sequence[int] = KEY_LAYERS
              ) -> jnp.ndarray:
  """Features -> (B, H, W, len(layers)) key image: channel mean, bilinear resize to H×W, min-max to [-1, 1]."""
  maps = []
  for l in layers:
    f = jnp.mean(feats[l - 1], axis=-1, keepdims=True)
    f = jax.image.resize(f, (f.shape[0],) + tuple(hw) + (1,), method="bilinear")
    lo = jnp.min(f, axis=(1, 2, 3), keepdims=True)
    hi = jnp.max(f, axis=(1, 2, 3), keepdims=True)
    maps.append(2.0 * (f - lo) / jnp.maximum(hi - lo, 1e-6) - 1.0)
  return jnp.concatenate(maps, axis=-1)


def make_networks(model) -> dict[str, nn.Module]:
  """The five networks named as in the paper: F (X→Y), G (Y→X), D_X, D_Y, K."""
  gen = dict(ngf=model.ngf, n_down=model.n_down, n_blocks=model.n_blocks)
  disc = dict(ndf=model.ndf, n_layers=model.disc_layers)
  return {
      "F": ResnetGenerator(**gen),
      "G": ResnetGenerator(**gen),
      "D_X": PatchDiscriminator(**disc),
      "D_Y": PatchDiscriminator(**disc),
      "K": KeyGenerator(tuple(model.key_features), tuple(model.key_strides), model.get("key_padding", "REFLECT")),
  }
