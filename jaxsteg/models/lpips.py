"""LPIPS v0.1 with the VGG16 backbone (the `lpips` package's `LPIPS(net='vgg')`) in Flax, NHWC, inference only.

[src] lpips.LPIPS.forward (version 0.1, lpips=True, spatial=False): both images in [-1, 1] go through the
ScalingLayer ((x - shift) / scale), torchvision VGG16 `features` up to relu1_2, relu2_2, relu3_3, relu4_3 and
relu5_3 (four 2×2 max-pools, so inputs need H, W ≥ 16); each stage's features are unit-normalised over channels
(x / (‖x‖ + 1e-10), `lpips.normalize_tensor`), the squared difference goes through that stage's 1×1 linear layer
(no bias; the dropout before it is inactive at inference), is averaged over space, and the five are summed.

No weights are downloaded here. Expected file: a NumPy `.npz` with the torchvision VGG16 names
`features.{0,2,5,7,10,12,14,17,19,21,24,26,28}.weight` (OIHW) / `.bias` and the lpips names
`lin0.model.1.weight` … `lin4.model.1.weight` (shape (1, C, 1, 1)); the loader transposes to HWIO. Made with
  import lpips, torch, torchvision
  vgg = torchvision.models.vgg16(weights="IMAGENET1K_V1").features.state_dict()
  lin = torch.load(os.path.join(os.path.dirname(lpips.__file__), "weights/v0.1/vgg.pth"), map_location="cpu")
  np.savez("lpips_vgg.npz", **{f"features.{k}": v.numpy() for k, v in vgg.items()},
           **{k: v.numpy() for k, v in lin.items() if k.startswith("lin")})
or `python launch/convert_fid_weights.py --lpips_out=...` (the lpips package ships its lin weights).

Checked against lpips 0.1.4 (`LPIPS(net='vgg', pnet_rand=True)`: its shipped linear layers, a random VGG16):
distances agree to 5e-7 relative on 16×16, 32×32 and 64×48 image pairs.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxsteg.models import inception

SHIFT = np.array([-0.030, -0.088, -0.188], np.float32)   # [src] lpips.ScalingLayer.
SCALE = np.array([0.458, 0.448, 0.450], np.float32)
# VGG16 `features` indices of the convolutions of each stage; a 2×2 max-pool precedes every stage but the first.
STAGES = ((0, 2), (5, 7), (10, 12, 14), (17, 19, 21), (24, 26, 28))
CHANNELS = (64, 128, 256, 512, 512)
MIN_SIZE = 16


class Conv3x3(nn.Module):
  """torch's Conv2d(in, features, 3, padding=1) (HWIO kernel, bias). On maps of at most 2×2 pixels it runs as
  patches × matrix: the same result, ~20× faster there than XLA:CPU's convolution (256–512 channels)."""
  features: int

  @nn.compact
  def __call__(self, x):
    kernel = self.param("kernel", nn.initializers.lecun_normal(), (3, 3, x.shape[-1], self.features))
    bias = self.param("bias", nn.initializers.zeros, (self.features,))
    dims, pad = ("NHWC", "HWIO", "NHWC"), ((1, 1), (1, 1))
    if x.shape[1] * x.shape[2] <= 4:
      patches = jax.lax.conv_general_dilated_patches(x, (3, 3), (1, 1), pad, dimension_numbers=dims,
                                                     precision=inception.HIGHEST)   # Features ordered (in, h, w).
      y = jnp.dot(patches, kernel.transpose(2, 0, 1, 3).reshape(-1, self.features), precision=inception.HIGHEST)
    else:
      y = jax.lax.conv_general_dilated(x, kernel, (1, 1), pad, dimension_numbers=dims, precision=inception.HIGHEST)
    return y + bias


class LPIPSVGG(nn.Module):
  """(B, H, W, 3) pairs in [-1, 1] -> (B,) LPIPS distances."""

  @nn.compact
  def __call__(self, a, b):
    x = (jnp.concatenate([a, b]) - SHIFT) / SCALE     # One VGG pass for both images.
    total = 0.0
    for stage, (convs, ch) in enumerate(zip(STAGES, CHANNELS)):
      if stage:
        x = nn.max_pool(x, (2, 2), strides=(2, 2))
      for i in convs:
        x = nn.relu(Conv3x3(ch, name=f"features_{i}")(x))
      unit = x / (jnp.sqrt(jnp.sum(x ** 2, axis=-1, keepdims=True)) + 1e-10)
      fa, fb = jnp.split(unit, 2)
      lin = nn.Conv(1, (1, 1), use_bias=False, precision=inception.HIGHEST, name=f"lin{stage}")
      total = total + jnp.mean(lin((fa - fb) ** 2), axis=(1, 2, 3))
    return total


def lpips_distance(params: dict, a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
  """LPIPS between images a, b (B, H, W, 3) in [0, 1], H, W ≥ 16 -> (B,) (lpips' `normalize=True`)."""
  if min(a.shape[1:3]) < MIN_SIZE:
    raise ValueError(f"LPIPS VGG needs images of at least {MIN_SIZE}×{MIN_SIZE}, got {a.shape[1:3]}")
  return LPIPSVGG().apply(params, 2.0 * a - 1.0, 2.0 * b - 1.0)


def _init(rng: jax.Array) -> dict:
  x = jnp.zeros((1, MIN_SIZE, MIN_SIZE, 3))
  return LPIPSVGG().init(rng, x, x)


def random_params(rng: np.random.Generator | int = 0) -> dict:
  """Random weights, with non-negative linear layers as lpips' (tests only: distances from them mean nothing)."""
  params = inception.random_like(inception.expected_shapes(_init), np.random.default_rng(rng))
  for stage in range(len(STAGES)):
    kernel = params["params"][f"lin{stage}"]["kernel"]
    params["params"][f"lin{stage}"]["kernel"] = np.abs(kernel) / kernel.shape[2]
  return params


def _torch_name(path: tuple[str, ...]) -> str:
  module, leaf = path[-2], path[-1]
  if module.startswith("lin"):
    return f"{module}.model.1.weight"
  return f"features.{module.split('_')[1]}.{'weight' if leaf == 'kernel' else leaf}"


def load_params(path: str) -> dict:
  """LPIPS VGG weights from the `.npz` described in this module's docstring."""
  return inception.load_torch_npz(path, inception.expected_shapes(_init), _torch_name, "LPIPS VGG",
                                  "jaxsteg/models/lpips.py")
