"""The FID Inception-v3 of pytorch-fid in Flax (NHWC, inference only): images -> 2048-d pool3 features.

[src] `pytorch_fid.inception.fid_inception_v3`: torchvision's Inception3 with the blocks patched to match the
TensorFlow graph of 2015-12-05 that the original FID code used: the average pools of the A, C and E blocks do
not count the zero padding (FIDInceptionA/C/E_1), and Mixed_7c (FIDInceptionE_2) max-pools in its pool branch.
Every convolution is BasicConv2d: conv (no bias) -> BatchNorm (eps 0.001, here a fixed affine with the stored
running statistics) -> ReLU. Features are the global average pool after Mixed_7c, as pytorch-fid's block 3.
Input (`pool3_features`): images in [0, 1], bilinearly resized (align_corners=False, no antialiasing, as
`F.interpolate`) to `size` (299 by default; 75 is the smallest the network takes), then scaled to [-1, 1].

No weights are downloaded here. Expected file: a NumPy `.npz` of the pytorch-fid state_dict under its own names
(`Conv2d_1a_3x3.conv.weight`, `Mixed_5b.branch1x1.bn.running_mean`, …; `fc.*` and `num_batches_tracked` are
ignored); the loader transposes the OIHW kernels to HWIO itself. Made from the pytorch-fid weight file with
  sd = torch.load("pt_inception-2015-12-05-6726825d.pth")   # pytorch_fid.inception.FID_WEIGHTS_URL
  np.savez("fid_inception.npz", **{k: v.numpy() for k, v in sd.items()})
or `python launch/convert_fid_weights.py --fid_pth=... --fid_out=...`.

Checked against pytorch-fid 0.3.0 (torch 2.14, torchvision 0.29) with random weights and random BatchNorm
statistics, its own InceptionV3 pipeline (resize + normalize): pool3 features agree to 8e-7 of their largest
value for 64×64, 96×96, 299×299 and 320×320 inputs.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

HIGHEST = jax.lax.Precision.HIGHEST   # Feature statistics should not depend on the accelerator's matmul mode.
MIN_SIZE = 75                         # Smallest input side: Mixed_7a's stride-2 convolutions need ≥ 3×3.


class FrozenBatchNorm(nn.Module):
  """BatchNorm at inference: (x - running_mean) / sqrt(running_var + eps) * weight + bias (PyTorch names)."""
  eps: float = 1e-3

  @nn.compact
  def __call__(self, x):
    c = x.shape[-1]
    weight = self.param("weight", nn.initializers.ones, (c,))
    bias = self.param("bias", nn.initializers.zeros, (c,))
    mean = self.param("running_mean", nn.initializers.zeros, (c,))
    var = self.param("running_var", nn.initializers.ones, (c,))
    scale = weight * jax.lax.rsqrt(var + self.eps)
    return x * scale + (bias - mean * scale)


class BasicConv(nn.Module):
  """torchvision's BasicConv2d: conv without bias, BatchNorm, ReLU. `padding` is (pad_h, pad_w)."""
  features: int
  kernel: tuple[int, int] = (1, 1)
  stride: int = 1
  padding: tuple[int, int] = (0, 0)

  @nn.compact
  def __call__(self, x):
    pad = tuple((p, p) for p in self.padding)
    x = nn.Conv(self.features, self.kernel, strides=self.stride, padding=pad, use_bias=False,
                precision=HIGHEST, name="conv")(x)
    return nn.relu(FrozenBatchNorm(name="bn")(x))


def _avg_pool(x):
  return nn.avg_pool(x, (3, 3), strides=(1, 1), padding=((1, 1), (1, 1)), count_include_pad=False)


def _max_pool(x, stride=2):
  pad = ((1, 1), (1, 1)) if stride == 1 else "VALID"
  return nn.max_pool(x, (3, 3), strides=(stride, stride), padding=pad)


class InceptionA(nn.Module):   # FIDInceptionA (Mixed_5b/c/d).
  pool_features: int

  @nn.compact
  def __call__(self, x):
    b1 = BasicConv(64, name="branch1x1")(x)
    b5 = BasicConv(48, name="branch5x5_1")(x)
    b5 = BasicConv(64, (5, 5), padding=(2, 2), name="branch5x5_2")(b5)
    b3 = BasicConv(64, name="branch3x3dbl_1")(x)
    b3 = BasicConv(96, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(b3)
    b3 = BasicConv(96, (3, 3), padding=(1, 1), name="branch3x3dbl_3")(b3)
    bp = BasicConv(self.pool_features, name="branch_pool")(_avg_pool(x))
    return jnp.concatenate([b1, b5, b3, bp], -1)


class InceptionB(nn.Module):   # torchvision InceptionB (Mixed_6a), unpatched.

  @nn.compact
  def __call__(self, x):
    b3 = BasicConv(384, (3, 3), stride=2, name="branch3x3")(x)
    bd = BasicConv(64, name="branch3x3dbl_1")(x)
    bd = BasicConv(96, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(bd)
    bd = BasicConv(96, (3, 3), stride=2, name="branch3x3dbl_3")(bd)
    return jnp.concatenate([b3, bd, _max_pool(x)], -1)


class InceptionC(nn.Module):   # FIDInceptionC (Mixed_6b/c/d/e).
  channels_7x7: int

  @nn.compact
  def __call__(self, x):
    c = self.channels_7x7
    row, col = {"kernel": (1, 7), "padding": (0, 3)}, {"kernel": (7, 1), "padding": (3, 0)}
    b1 = BasicConv(192, name="branch1x1")(x)
    b7 = BasicConv(c, name="branch7x7_1")(x)
    b7 = BasicConv(c, **row, name="branch7x7_2")(b7)
    b7 = BasicConv(192, **col, name="branch7x7_3")(b7)
    bd = BasicConv(c, name="branch7x7dbl_1")(x)
    bd = BasicConv(c, **col, name="branch7x7dbl_2")(bd)
    bd = BasicConv(c, **row, name="branch7x7dbl_3")(bd)
    bd = BasicConv(c, **col, name="branch7x7dbl_4")(bd)
    bd = BasicConv(192, **row, name="branch7x7dbl_5")(bd)
    bp = BasicConv(192, name="branch_pool")(_avg_pool(x))
    return jnp.concatenate([b1, b7, bd, bp], -1)


class InceptionD(nn.Module):   # torchvision InceptionD (Mixed_7a), unpatched.

  @nn.compact
  def __call__(self, x):
    b3 = BasicConv(192, name="branch3x3_1")(x)
    b3 = BasicConv(320, (3, 3), stride=2, name="branch3x3_2")(b3)
    b7 = BasicConv(192, name="branch7x7x3_1")(x)
    b7 = BasicConv(192, (1, 7), padding=(0, 3), name="branch7x7x3_2")(b7)
    b7 = BasicConv(192, (7, 1), padding=(3, 0), name="branch7x7x3_3")(b7)
    b7 = BasicConv(192, (3, 3), stride=2, name="branch7x7x3_4")(b7)
    return jnp.concatenate([b3, b7, _max_pool(x)], -1)


class InceptionE(nn.Module):   # FIDInceptionE_1 (Mixed_7b, average pool) / FIDInceptionE_2 (Mixed_7c, max pool).
  max_pool: bool = False

  @nn.compact
  def __call__(self, x):
    row, col = {"kernel": (1, 3), "padding": (0, 1)}, {"kernel": (3, 1), "padding": (1, 0)}
    b1 = BasicConv(320, name="branch1x1")(x)
    b3 = BasicConv(384, name="branch3x3_1")(x)
    b3 = jnp.concatenate([BasicConv(384, **row, name="branch3x3_2a")(b3),
                          BasicConv(384, **col, name="branch3x3_2b")(b3)], -1)
    bd = BasicConv(448, name="branch3x3dbl_1")(x)
    bd = BasicConv(384, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(bd)
    bd = jnp.concatenate([BasicConv(384, **row, name="branch3x3dbl_3a")(bd),
                          BasicConv(384, **col, name="branch3x3dbl_3b")(bd)], -1)
    pooled = _max_pool(x, stride=1) if self.max_pool else _avg_pool(x)
    bp = BasicConv(192, name="branch_pool")(pooled)
    return jnp.concatenate([b1, b3, bd, bp], -1)


class FIDInceptionV3(nn.Module):
  """(B, H, W, 3) in [-1, 1], H, W ≥ 75 -> (B, 2048) pool3 features."""

  @nn.compact
  def __call__(self, x):
    x = BasicConv(32, (3, 3), stride=2, name="Conv2d_1a_3x3")(x)
    x = BasicConv(32, (3, 3), name="Conv2d_2a_3x3")(x)
    x = BasicConv(64, (3, 3), padding=(1, 1), name="Conv2d_2b_3x3")(x)
    x = _max_pool(x)
    x = BasicConv(80, name="Conv2d_3b_1x1")(x)
    x = BasicConv(192, (3, 3), name="Conv2d_4a_3x3")(x)
    x = _max_pool(x)
    for name, pool_features in (("Mixed_5b", 32), ("Mixed_5c", 64), ("Mixed_5d", 64)):
      x = InceptionA(pool_features, name=name)(x)
    x = InceptionB(name="Mixed_6a")(x)
    for name, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
      x = InceptionC(c7, name=name)(x)
    x = InceptionD(name="Mixed_7a")(x)
    x = InceptionE(False, name="Mixed_7b")(x)
    x = InceptionE(True, name="Mixed_7c")(x)
    return jnp.mean(x, axis=(1, 2))



def pool3_features(params: dict, images: jnp.ndarray, size: int = 299) -> jnp.ndarray:
  """(B, H, W, 3) images in [0, 1] -> (B, 2048) features, as pytorch-fid's InceptionV3 (resize + normalize)."""
  if size < MIN_SIZE:
    raise ValueError(f"Inception input size {size} is below the minimum {MIN_SIZE}")
  if images.shape[1:3] != (size, size):
    images = jax.image.resize(images, (images.shape[0], size, size, images.shape[3]), "bilinear",
                              antialias=False)
  return FIDInceptionV3().apply(params, 2.0 * images - 1.0)


def _init(rng: jax.Array) -> dict:
  return FIDInceptionV3().init(rng, jnp.zeros((1, MIN_SIZE, MIN_SIZE, 3)))


def random_like(shapes: dict, rng: np.random.Generator) -> dict:
  """Random NumPy weights for a tree of shapes: He-normal kernels, BatchNorm scales and variances in
  [0.5, 1.5), small normal biases and means (drawn in NumPy: Flax's init of 22M weights is slow on CPU)."""
  def leaf(key_path, shape):
    name = key_path[-1].key
    if name == "kernel":
      return rng.normal(0.0, np.sqrt(2.0 / np.prod(shape[:-1])), shape).astype(np.float32)
    if name in ("weight", "running_var"):
      return rng.uniform(0.5, 1.5, shape).astype(np.float32)
    return rng.normal(0.0, 0.1, shape).astype(np.float32)
  return jax.tree_util.tree_map_with_path(leaf, shapes, is_leaf=lambda s: isinstance(s, tuple))


def random_params(rng: np.random.Generator | int = 0) -> dict:
  """Random weights with non-trivial BatchNorm statistics (tests only: features from them mean nothing)."""
  return random_like(expected_shapes(_init), np.random.default_rng(rng))


def _torch_name(path: tuple[str, ...]) -> str:
  """('params', 'Mixed_5b', 'branch1x1', 'conv', 'kernel') -> 'Mixed_5b.branch1x1.conv.weight'."""
  return ".".join(path[1:-1] + ("weight" if path[-1] == "kernel" else path[-1],))


def load_torch_npz(path: str, expected: dict, torch_name: Callable[[tuple[str, ...]], str], what: str,
                   help_module: str) -> dict:
  """Reads a PyTorch state_dict saved as `.npz` into a Flax params tree shaped as `expected` (a tree of shapes).

  Each leaf at Flax path p comes from the array `torch_name(p)`; 4-D arrays (conv kernels) are transposed from
  PyTorch's OIHW to HWIO. Extra arrays in the file are ignored. Raises FileNotFoundError / ValueError that say
  what is wrong and where the format is described (`help_module`).
  """
  if not path or not os.path.exists(path):
    raise FileNotFoundError(f"{what} weights file {path!r} does not exist (see {help_module} for the expected "
                            f".npz format and how to make it from the PyTorch weights)")
  try:
    f = np.load(path)
  except (OSError, ValueError, EOFError) as e:
    raise ValueError(f"{path}: not a NumPy .npz file of {what} weights ({e}); see {help_module}") from e
  if not isinstance(f, np.lib.npyio.NpzFile):
    raise ValueError(f"{path}: a single array, not an .npz of named {what} weights; see {help_module}")  # noqa: TRY004
  with f:
    def leaf(key_path, shape):
      names = tuple(k.key for k in key_path)
      name = torch_name(names)
      if name not in f.files:
        raise ValueError(f"{path}: missing array {name!r} for {what} (keys follow the PyTorch state_dict "
                         f"names; see {help_module})")
      value = np.asarray(f[name], np.float32)
      want = (shape[3], shape[2], shape[0], shape[1]) if len(shape) == 4 else tuple(shape)   # HWIO -> OIHW.
      if value.shape != want:
        raise ValueError(f"{path}: {name} has shape {value.shape}, expected {want} (PyTorch layout)")
      return value.transpose(2, 3, 1, 0) if value.ndim == 4 else value
    return jax.tree_util.tree_map_with_path(leaf, expected, is_leaf=lambda s: isinstance(s, tuple))


def expected_shapes(init_fn: Callable[[jax.Array], dict]) -> dict:
  """The tree of parameter shapes that `init_fn(rng)` makes (traced, nothing computed)."""
  return jax.tree.map(lambda s: tuple(s.shape), jax.eval_shape(init_fn, jax.random.key(0)))


def load_params(path: str) -> dict:
  """The FID Inception weights from the `.npz` described in this module's docstring."""
  return load_torch_npz(path, expected_shapes(_init), _torch_name, "FID Inception", "jaxsteg/models/inception.py")
