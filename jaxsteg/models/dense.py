"""SteganoGAN-style bit-payload networks (Zhang et al. 2019, "Dense" variant) and the critic.

Block B(i, o) = Conv3×3 → LeakyReLU(0.01) → Norm. SteganoGAN uses BatchNorm; under data parallelism its batch
statistics would differ per device, so the norm is switchable [inf]: 'group' (GroupNorm, per image, the same
on one device or many and at any image size), 'layer', or 'none'.

Encoder: x1 = B(C,32)(C); x2 = B(32+D,32)([x1,M]); x3 = B(64+D,32)([x1,x2,M]);
         container = C + Conv(96+D → C)([x1,x2,x3,M])   (M given to the network as ±1 [inf]).
Decoder: x1 = B(C,32); x2 = B(32,32)(x1); x3 = B(64,32)([x1,x2]); logits = Conv(96 → D)([x1,x2,x3])
         (with `skip` [inf]: Conv(96+C → D)([x1,x2,x3,container]), a linear path that a carrier is found on fast).
Critic:  3 × B(·,32) + Conv → 1, spatial mean: one score per image (WGAN, weights clipped by the task).
"""

from __future__ import annotations

import flax.linen as nn
import jax.numpy as jnp
import ml_collections


def _norm(kind: str, features: int):
  if kind == "group":
    return nn.GroupNorm(num_groups=min(8, features))
  if kind == "layer":
    return nn.LayerNorm()
  if kind == "none":
    return lambda x: x
  raise ValueError(f"norm must be 'group', 'layer' or 'none', got {kind!r}")


class DenseBlock(nn.Module):
  """Conv3×3 → LeakyReLU(0.01) → norm."""
  features: int
  norm: str = "group"

  @nn.compact
  def __call__(self, x):
    x = nn.leaky_relu(nn.Conv(self.features, (3, 3), padding="SAME")(x), 0.01)
    return _norm(self.norm, self.features)(x)


class DenseEncoder(nn.Module):
  """(cover (B,H,W,C) in [0,1], bits (B,H,W,D) in {0,1}) -> container (B,H,W,C), unbounded (8-bit when sent)."""
  width: int = 32
  norm: str = "group"
  # [inf] Start near container = cover: the output conv is zero-initialised and a small random 1×1 projection
  # of the message is added, so the container carries the bits from step 0 (both at zero would be a saddle).
  zero_init: bool = False

  @nn.compact
  def __call__(self, cover, bits):
    m = 2.0 * bits - 1.0
    x1 = DenseBlock(self.width, self.norm)(cover)
    x2 = DenseBlock(self.width, self.norm)(jnp.concatenate([x1, m], -1))
    x3 = DenseBlock(self.width, self.norm)(jnp.concatenate([x1, x2, m], -1))
    init = nn.initializers.zeros if self.zero_init else nn.linear.default_kernel_init
    residual = nn.Conv(cover.shape[-1], (3, 3), padding="SAME", kernel_init=init)(
        jnp.concatenate([x1, x2, x3, m], -1))
    if self.zero_init:
      residual += nn.Conv(cover.shape[-1], (1, 1), use_bias=False, kernel_init=nn.initializers.normal(0.02),
                          name="message_skip")(m)
    return cover + residual


class DenseDecoder(nn.Module):
  """Container (B,H,W,C) in [0,1] -> bit logits (B,H,W,D) (> 0 means 1)."""
  depth: int
  width: int = 32
  norm: str = "group"
  skip: bool = False   # [inf] Also feed the container itself to the output conv (a linear path).

  @nn.compact
  def __call__(self, container):
    x1 = DenseBlock(self.width, self.norm)(container)
    x2 = DenseBlock(self.width, self.norm)(x1)
    x3 = DenseBlock(self.width, self.norm)(jnp.concatenate([x1, x2], -1))
    feats = [x1, x2, x3, container] if self.skip else [x1, x2, x3]
    return nn.Conv(self.depth, (3, 3), padding="SAME")(jnp.concatenate(feats, -1))


class Critic(nn.Module):
  """Image (B,H,W,C) -> a score per image (B,); higher = more like a container (WGAN convention of the task)."""
  width: int = 32
  norm: str = "group"

  @nn.compact
  def __call__(self, x):
    for _ in range(3):
      x = DenseBlock(self.width, self.norm)(x)
    return jnp.mean(nn.Conv(1, (3, 3), padding="SAME")(x), axis=(1, 2, 3))


def make_networks(model: ml_collections.ConfigDict) -> dict[str, nn.Module]:
  """{'encoder', 'decoder', 'critic'}."""
  return {
      "encoder": DenseEncoder(model.width, model.norm, model.get("zero_init_residual", False)),
      "decoder": DenseDecoder(model.depth, model.width, model.norm, model.get("decoder_skip", False)),
      "critic": Critic(model.width, model.norm),
  }
