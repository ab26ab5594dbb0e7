"""Building blocks shared by the model families. Layouts are NHWC."""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp


def space_to_depth(x: jnp.ndarray, factor: int) -> jnp.ndarray:
  """(B, H, W, C) -> (B, H/f, W/f, C·f²); each f×f pixel block becomes one position's channels."""
  if factor == 1:
    return x
  b, h, w, c = x.shape
  if h % factor or w % factor:
    raise ValueError(f"image size {h}x{w} must be a multiple of {factor}")
  x = x.reshape(b, h // factor, factor, w // factor, factor, c)
  return x.transpose(0, 1, 3, 2, 4, 5).reshape(b, h // factor, w // factor, factor * factor * c)


def depth_to_space(x: jnp.ndarray, factor: int) -> jnp.ndarray:
  """Inverse of `space_to_depth`."""
  if factor == 1:
    return x
  b, h, w, c = x.shape
  c_out = c // (factor * factor)
  x = x.reshape(b, h, w, factor, factor, c_out)
  return x.transpose(0, 1, 3, 2, 4, 5).reshape(b, h * factor, w * factor, c_out)


class Block(nn.Module):
  """Conv k×k, `features` filters, stride 1, SAME padding (the methods spec's Block(k, f))."""
  features: int
  kernel: int

  @nn.compact
  def __call__(self, x):
    return nn.Conv(self.features, (self.kernel, self.kernel), padding="SAME")(x)


class ParallelConvs(nn.Module):
  """Convs of several kernel sizes side by side, ReLU, concatenated on channels."""
  features: Sequence[int]
  kernels: Sequence[int]

  @nn.compact
  def __call__(self, x):
    return jnp.concatenate(
        [nn.relu(Block(f, k)(x)) for f, k in zip(self.features, self.kernels)], axis=-1)


class MultiBlock(nn.Module):
  """Baluja's blog-version block: branches k=3,4,5 of `depth`×(Block(k,50), ReLU), concat (150 ch),
  then parallel Block(5,50)/Block(4,50)/Block(3,50) + ReLU, concat (150 ch)."""
  width: int = 50
  depth: int = 4

  @nn.compact
  def __call__(self, x):
    branches = []
    for k in (3, 4, 5):
      h = x
      for _ in range(self.depth):
        h = nn.relu(Block(self.width, k)(h))
      branches.append(h)
    h = jnp.concatenate(branches, axis=-1)
    return ParallelConvs((self.width,) * 3, (5, 4, 3))(h)


class LightStack(nn.Module):
  """The lighter Keras variant: `layers` × ParallelConvs([3×3×50, 4×4×10, 5×5×5]) (65 channels)."""
  layers: int
  features: Sequence[int] = (50, 10, 5)

  @nn.compact
  def __call__(self, x):
    for _ in range(self.layers):
      x = ParallelConvs(self.features, (3, 4, 5))(x)
    return x


class ConvStack(nn.Module):
  """`depth` × (Conv3×3(width), ReLU), the body of the fast CPU networks."""
  width: int
  depth: int

  @nn.compact
  def __call__(self, x):
    for _ in range(self.depth):
      x = nn.relu(Block(self.width, 3)(x))
    return x
