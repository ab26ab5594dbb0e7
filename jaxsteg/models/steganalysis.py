"""CNN steganalysers: one logit per image (positive: a container), on pixel values in levels (0-255).

- `XuNet` (Xu, Wu, Shi, "Structural design of convolutional neural networks for steganalysis", IEEE SPL 2016):
  a fixed KV high-pass filter (per colour channel), then five groups: conv 5×5×8 → ABS → BN → TanH → avg pool;
  conv 5×5×16 → BN → TanH → avg pool; three 1×1 convs (32, 64, 128) → BN → ReLU → avg pool (the last one
  global); a linear layer. Pools are 5×5 with stride 2. Convolutions have no bias (BN follows). ~15 k
  parameters (14 777 for one channel, 15 177 for three).
- `SRNet` (Boroumand, Chen, Fridrich, "Deep residual network for steganalysis of digital images", IEEE TIFS
  2019): no fixed filter; 12 layers of four types, all 3×3 convolutions with biases, BN after each:
    type 1  conv → BN → ReLU                                         layers 1-2 (64, 16 channels)
    type 2  type 1 → conv → BN, plus the input (identity residual)   layers 3-7 (16)
    type 3  type 1 → conv → BN → avg pool 3×3 stride 2, plus a 1×1 stride-2 conv → BN of the input
                                                                     layers 8-11 (16, 64, 128, 256)
    type 4  type 1 → conv → BN → global average pool                 layer 12 (512)
  then a linear layer: 4 779 105 parameters for one channel (the paper's 4.78 M; one logit instead of two).
- `SRNetSlim` [inf: ours, for CPUs]: the same 12 layers with channels (16, 8, 8, 16, 32, 64, 128), ≈ 0.3 M
  parameters and 1/8 of SRNet's multiply-adds (49 M against 377 M per 64×64 colour crop). `high_pass`
  [inf] starts an SRNet's layer 1 from 3×3 SRM high-pass kernels (`high_pass_init`; same architecture).

The first convolution takes the input's C channels (colour images are analysed jointly). BN statistics live in
the `batch_stats` collection (`train=True` updates them). Written in Flax because the detectors train in the
same sharded loop as every family; no JAX implementation of these networks is maintained elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

# The KV kernel (Ker & Böhme's "square 5×5", used by Qian et al. and Xu et al.), a second-order high-pass.
KV = np.array([[-1, 2, -2, 2, -1],
               [2, -6, 8, -6, 2],
               [-2, 8, -12, 8, -2],
               [2, -6, 8, -6, 2],
               [-1, 2, -2, 2, -1]], np.float32) / 12.0

# 3×3 high-pass kernels of the spatial rich model (Fridrich & Kodovský 2012), most useful first: the 3×3
# "square" (KB) kernel, second-order then first-order differences in four directions. `high_pass_init` starts
# SRNet's first layer on them.
SRM3 = np.array([[[-1, 2, -1], [2, -4, 2], [-1, 2, -1]],
                 [[0, 0, 0], [1, -2, 1], [0, 0, 0]], [[0, 1, 0], [0, -2, 0], [0, 1, 0]],
                 [[1, 0, 0], [0, -2, 0], [0, 0, 1]], [[0, 0, 1], [0, -2, 0], [1, 0, 0]],
                 [[0, 0, 0], [0, -1, 1], [0, 0, 0]], [[0, 1, 0], [0, -1, 0], [0, 0, 0]],
                 [[0, 0, 1], [0, -1, 0], [0, 0, 0]], [[1, 0, 0], [0, -1, 0], [0, 0, 0]]], np.float32)

SRNET_WIDTHS = (64, 16, 16, 64, 128, 256, 512)     # Layers 1, 2-7, 8, 9, 10, 11, 12.
SLIM_WIDTHS = (16, 8, 8, 16, 32, 64, 128)
ARCHS = ("xunet", "srnet", "srnet_slim")


def high_pass(x: jnp.ndarray, kernel: np.ndarray) -> jnp.ndarray:
  """The same fixed 2-D filter on each channel of x (B, H, W, C), 'SAME' padding."""
  c = x.shape[-1]
  k = jnp.asarray(np.tile(kernel[:, :, None, None], (1, 1, 1, c)), x.dtype)   # HWIO, one group per channel.
  return jax.lax.conv_general_dilated(x, k, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                      feature_group_count=c)


def high_pass_init(key, shape, dtype=jnp.float32):
  """[inf] A 3×3 conv kernel (3, 3, C, F) whose first min(F, 9C) filters are SRM3 kernels, filter j being kernel
  j // C on input channel j % C alone; the other filters are lecun-normal. The network then starts from noise
  residuals of each colour channel instead of having to discover them."""
  _, _, c, f = shape
  fixed, mask = np.zeros(shape, np.float32), np.zeros(shape, bool)
  for j in range(min(f, c * len(SRM3))):
    mask[:, :, :, j] = True
    fixed[:, :, j % c, j] = SRM3[j // c]
  return jnp.where(mask, jnp.asarray(fixed, dtype), nn.initializers.lecun_normal()(key, shape, dtype))


class XuNet(nn.Module):
  """Xu-Net: (B, H, W, C) pixel levels -> (B,) logits."""
  momentum: float = 0.9

  @nn.compact
  def __call__(self, x, train: bool = False):
    bn = lambda: nn.BatchNorm(use_running_average=not train, momentum=self.momentum)
    pool = lambda h: nn.avg_pool(h, (5, 5), strides=(2, 2), padding="SAME")      
    h = high_pass(x, KV)
    h = pool(jnp.tanh(bn()(jnp.abs(nn.Conv(8, (5, 5), use_bias=False)(h)))))
    h = pool(jnp.tanh(bn()(nn.Conv(16, (5, 5), use_bias=False)(h))))
    for width in (32, 64):
      h = pool(nn.relu(bn()(nn.Conv(width, (1, 1), use_bias=False)(h))))
    h = nn.relu(bn()(nn.Conv(128, (1, 1), use_bias=False)(h)))
    return nn.Dense(1)(jnp.mean(h, axis=(1, 2)))[:, 0]


class XuNetGN(nn.Module):
  """[inf] Xu-Net with GroupNorm (one group per 4 channels, per image) in place of BatchNorm: the adversary a
  hider trains against in its own step (`loss.adversary`), where batch statistics would couple the covers and
  containers of a batch and need a second state collection. (B, H, W, C) pixel levels -> (B,) logits."""

  @nn.compact
  def __call__(self, x, train: bool = False):
    del train
    gn = lambda width: nn.GroupNorm(num_groups=max(1, width // 4))  # pylint: disable=unnecessary-lambda-assignment
    pool = lambda h: nn.avg_pool(h, (5, 5), strides=(2, 2), padding="SAME")  # pylint: disable=unnecessary-lambda-assignment
    h = high_pass(x, KV)
    h = pool(jnp.tanh(gn(8)(jnp.abs(nn.Conv(8, (5, 5), use_bias=False)(h)))))
    h = pool(jnp.tanh(gn(16)(nn.Conv(16, (5, 5), use_bias=False)(h))))
    for width in (32, 64):
      h = pool(nn.relu(gn(width)(nn.Conv(width, (1, 1), use_bias=False)(h))))
    h = nn.relu(gn(128)(nn.Conv(128, (1, 1), use_bias=False)(h)))
    return nn.Dense(1)(jnp.mean(h, axis=(1, 2)))[:, 0]


class _ConvBN(nn.Module):
  """conv 3×3 (with bias) → BN, optionally → ReLU: SRNet's type 1 layer when relu is set."""
  width: int
  relu: bool
  momentum: float
  high_pass: bool = False

  @nn.compact
  def __call__(self, x, train: bool):
    init = high_pass_init if self.high_pass else nn.initializers.lecun_normal()
    h = nn.Conv(self.width, (3, 3), kernel_init=init)(x)
    h = nn.BatchNorm(use_running_average=not train, momentum=self.momentum)(h)
    return nn.relu(h) if self.relu else h


class SRNetLayer(nn.Module):
  """One SRNet layer of `kind` 1-4 with `width` output channels."""
  kind: int
  width: int
  momentum: float = 0.9
  high_pass: bool = False   # Type 1 only: `high_pass_init` for its conv.

  @nn.compact
  def __call__(self, x, train: bool):
    layer = lambda relu: _ConvBN(self.width, relu, self.momentum)
    if self.kind == 1:
      return _ConvBN(self.width, True, self.momentum, self.high_pass)(x, train)
    h = layer(False)(layer(True)(x, train), train)
    if self.kind == 2:
      return x + h
    if self.kind == 3:
      skip = nn.Conv(self.width, (1, 1), strides=(2, 2))(x)
      skip = nn.BatchNorm(use_running_average=not train, momentum=self.momentum)(skip)
      return nn.avg_pool(h, (3, 3), strides=(2, 2), padding="SAME") + skip
    if self.kind == 4:
      return jnp.mean(h, axis=(1, 2))
    raise ValueError(f"SRNet has layer types 1-4, not {self.kind}")


class SRNet(nn.Module):
  """SRNet with `widths` of layers (1, 2-7, 8, 9, 10, 11, 12): (B, H, W, C) pixel levels -> (B,) logits."""
  widths: Sequence[int] = SRNET_WIDTHS
  momentum: float = 0.9
  high_pass: bool = False   # [inf] Layer 1 starts from the SRM3 high-pass kernels (`high_pass_init`).

  @nn.compact
  def __call__(self, x, train: bool = False):
    w1, w2, w8, w9, w10, w11, w12 = self.widths
    plan = [(1, w1), (1, w2)] + [(2, w2)] * 5 + [(3, w8), (3, w9), (3, w10), (3, w11), (4, w12)]
    h = x
    for i, (kind, width) in enumerate(plan):
      h = SRNetLayer(kind, width, self.momentum, self.high_pass and i == 0)(h, train)
    return nn.Dense(1)(h)[:, 0]


def SRNetSlim(momentum: float = 0.9, high_pass: bool = False) -> SRNet:
  """SRNet's structure with `SLIM_WIDTHS` channels (≈ 0.3 M parameters)."""
  return SRNet(SLIM_WIDTHS, momentum, high_pass)


def make_detector(arch: str, momentum: float = 0.9, widths: Sequence[int] | None = None,
                  high_pass: bool = False) -> nn.Module:
  """The network `arch` (xunet | srnet | srnet_slim); `widths` overrides an SRNet's seven widths; `high_pass`
  starts an SRNet's first layer from the SRM3 kernels (XuNet's KV filter is always there)."""
  if arch == "xunet":
    return XuNet(momentum)
  if arch in ("srnet", "srnet_slim"):
    default = SRNET_WIDTHS if arch == "srnet" else SLIM_WIDTHS
    widths = tuple(widths) if widths else default
    if len(widths) != 7:
      raise ValueError(f"SRNet takes 7 widths (layers 1, 2-7, 8, 9, 10, 11, 12), got {widths}")
    return SRNet(widths, momentum, high_pass)
  raise ValueError(f"unknown steganalyser {arch!r}; use one of {', '.join(ARCHS)}")


def num_params(variables) -> int:
  """Trainable parameters (the `params` collection) of a variable tree."""
  return int(sum(np.prod(p.shape) for p in jax.tree.leaves(variables["params"])))
