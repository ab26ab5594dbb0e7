"""VGG16 up to block3_conv3, for perceptual losses; the weights come from a file the user provides.

No weights are downloaded here. Expected file: a NumPy `.npz` with, for every layer
`block1_conv1, block1_conv2, block2_conv1, block2_conv2, block3_conv1, block3_conv2, block3_conv3`, the arrays
`<layer>/kernel` of shape (3, 3, in, out) (HWIO, as Keras stores them) and `<layer>/bias` of shape (out,).
`preprocess` says what input the weights expect: 'torch' (RGB in [0, 1], ImageNet mean/std; torchvision's
VGG16) or 'caffe' (BGR, 0–255, ImageNet mean subtracted; Keras' VGG16).

From torchvision (`features.{0,2,5,7,10,12,14}` are these seven convolutions; kernels are OIHW there):
  sd = torchvision.models.vgg16(weights="IMAGENET1K_V1").features.state_dict()
  names = [f"block{b}_conv{c}" for b, n in ((1, 2), (2, 2), (3, 3)) for c in range(1, n + 1)]
  np.savez("vgg16_block3.npz", **{k: v for name, i in zip(names, (0, 2, 5, 7, 10, 12, 14)) for k, v in
           ((f"{name}/kernel", sd[f"{i}.weight"].numpy().transpose(2, 3, 1, 0)),
            (f"{name}/bias", sd[f"{i}.bias"].numpy()))})
From Keras: `VGG16(weights="imagenet")`, then `layer.get_weights()` of the same layer names (already HWIO),
with preprocess 'caffe'.
"""

from __future__ import annotations

import os

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

BLOCKS = ((1, 2, 64), (2, 2, 128), (3, 3, 256))   # (block, convs, channels)
LAYERS = tuple(f"block{b}_conv{c}" for b, n, _ in BLOCKS for c in range(1, n + 1))
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)
CAFFE_MEAN_BGR = np.array([103.939, 116.779, 123.68], np.float32)


class VGG16Block3(nn.Module):
  """(B, H, W, 3) images in [0, 1] -> block3_conv3 features (B, H/4, W/4, 256), after its ReLU."""
  preprocess: str = "torch"

  @nn.compact
  def __call__(self, x):
    if self.preprocess == "torch":
      x = (x - IMAGENET_MEAN) / IMAGENET_STD
    elif self.preprocess == "caffe":
      x = x[..., ::-1] * 255.0 - CAFFE_MEAN_BGR
    else:
      raise ValueError(f"vgg preprocess must be 'torch' or 'caffe', got {self.preprocess!r}")
    for b, n, ch in BLOCKS:
      for c in range(1, n + 1):
        x = nn.relu(nn.Conv(ch, (3, 3), padding="SAME", name=f"block{b}_conv{c}")(x))
      if b < 3:
        x = nn.max_pool(x, (2, 2), strides=(2, 2))
    return x


def random_params(rng: jax.Array) -> dict:
  """Randomly initialised weights (tests only: perceptual losses on them mean nothing)."""
  return VGG16Block3().init(rng, jnp.zeros((1, 16, 16, 3)))


def load_params(path: str) -> dict:
  """Reads weights in the format of this module's docstring; raises ValueError with what is wrong."""
  if not path or not os.path.exists(path):
    raise FileNotFoundError(f"VGG16 weights file {path!r} does not exist (see jaxsteg/models/vgg.py for the "
                            f"expected .npz format and how to make it from torchvision or Keras)")
  expected = jax.tree.map(np.shape, jax.eval_shape(random_params, jax.random.key(0)))["params"]
  with np.load(path) as f:
    params = {}
    for layer in LAYERS:
      params[layer] = {}
      for field in ("kernel", "bias"):
        key = f"{layer}/{field}"
        if key not in f:
          raise ValueError(f"{path}: missing array {key!r} (expected keys: <layer>/kernel, <layer>/bias for "
                           f"{', '.join(LAYERS)})")
        value = np.asarray(f[key], np.float32)
        if value.shape != tuple(expected[layer][field]):
          raise ValueError(f"{path}: {key} has shape {value.shape}, expected {tuple(expected[layer][field])} "
                           f"(kernels are HWIO: 3, 3, in, out)")
        params[layer][field] = value
  return {"params": params}
