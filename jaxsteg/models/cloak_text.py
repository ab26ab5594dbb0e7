"""ImageCloak text-variant networks with a class head: the 28×28 matrix of character classes is prepared, hidden
in a single-channel cover by Deep Steganography's hide network, and revealed as per-cell class logits.

- Prep: the code matrix as a grey image through a learned table of one grey level per class (initialised to the
  ASCII code / 255, padding 0: the paper's text image), next to a learned embedding of each cell's class; then
  the arch's prep body ('blog': MultiBlock; 'light': two LightStack layers; 'fast': a conv stack at reduced
  resolution by space-to-depth `s2d`, with a skip).
- Hide: `jaxsteg.models.deepstego.HideNet`, unchanged.
- Reveal: the arch's reveal body gives, per cell, an estimate e of the hidden grey level (initialised to the
  container itself) and free logits g (zero-initialised); class logits = g_c − s·(e − level_c)², the levels
  shared with prep and s a learned sharpness [inf]. A softmax over them is a softmax over the code points in
  use; the distance term lets the revealer tell grey levels 1/255 apart from the first steps, which free logits
  of a conv net learn only slowly (that is why regressing the grey levels fails).
"""

from __future__ import annotations

import flax.linen as nn
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxsteg.models import deepstego
from jaxsteg.models import layers

SHARPNESS_INIT = 20.0   # s at initialisation: levels about 0.16 apart are told apart.
SHARPNESS_RATE = 10.0   # s = exp(RATE·t): Adam moves log s ten times faster than a plain parameter.


def ascii_levels(num_classes: int, first_code: int = 32):
  """Initial grey level per class: 0 for padding (class 0), (first_code + c − 1) / 255 for class c."""
  def init(key, shape, dtype=jnp.float32):
    del key
    codes = np.concatenate([[0.0], first_code + np.arange(num_classes - 1)])
    return jnp.asarray(codes[:shape[0]] / 255.0, dtype)
  return init


class CodePrep(nn.Module):
  """Class indices (B, H, W) int -> prepared features (B, H', W', F); its `levels` are the revealer's too."""
  arch: str
  num_classes: int
  embed_dim: int = 16
  width: int = 50
  depth: int = 2
  s2d: int = 1

  @nn.compact
  def __call__(self, classes):
    levels = self.param("levels", ascii_levels(self.num_classes), (self.num_classes,))
    x = levels[classes][..., None]
    if self.embed_dim:
      x = jnp.concatenate([x, nn.Embed(self.num_classes, self.embed_dim, name="embed")(classes)], axis=-1)
    if self.arch == "blog":
      return layers.MultiBlock(self.width)(x)
    if self.arch == "light":
      return layers.LightStack(2)(x)
    x = layers.space_to_depth(x, self.s2d)
    return jnp.concatenate([x, layers.ConvStack(self.width, self.depth)(x)], axis=-1)


def _identity_1x1(key, shape, dtype=jnp.float32):
  del key
  return jnp.eye(shape[-2], shape[-1], dtype=dtype).reshape(shape)


class ClassReveal(nn.Module):
  """Container (B, H, W, C) and the class levels (num_classes,) -> class logits (B, H, W, num_classes)."""
  arch: str
  num_classes: int
  width: int = 50
  depth: int = 4
  s2d: int = 1
  gain: float = 1.0

  @nn.compact
  def __call__(self, container, levels):
    zeros = nn.initializers.zeros
    if self.arch in ("blog", "light"):
      body = self.gain * (container - 0.5)
      h = layers.MultiBlock(self.width)(body) if self.arch == "blog" else layers.LightStack(5)(body)
      estimate = jnp.mean(container, -1, keepdims=True) + nn.Conv(1, (1, 1), kernel_init=zeros, name="level")(h)
      free = nn.Conv(self.num_classes, (1, 1), kernel_init=zeros, name="logits")(h)
    else:
      f = self.s2d
      x = layers.space_to_depth(container, f)
      h = layers.ConvStack(self.width, self.depth)(self.gain * (x - 0.5))
      est = (nn.Conv(x.shape[-1], (1, 1), use_bias=False, kernel_init=_identity_1x1, name="skip")(x)
             + nn.Conv(x.shape[-1], (3, 3), kernel_init=zeros, name="level")(h))
      estimate = layers.depth_to_space(est, f)[..., :1]
      free = layers.depth_to_space(
          nn.Conv(self.num_classes * f * f, (3, 3), kernel_init=zeros, name="logits")(h), f)
    t = self.param("sharpness", nn.initializers.constant(np.log(SHARPNESS_INIT) / SHARPNESS_RATE), ())
    return free - jnp.exp(SHARPNESS_RATE * t) * jnp.square(estimate - levels)


def make_networks(model: ml_collections.ConfigDict, channels: int, num_classes: int) -> dict[str, nn.Module]:
  """{'prep', 'hide', 'reveal'}: one message per cover."""
  if model.arch not in ("blog", "light", "fast"):
    raise ValueError(f"model.arch must be 'blog', 'light' or 'fast', got {model.arch!r}")
  kw = {"arch": model.arch, "width": model.width}
  fast = model.arch == "fast"

  def depth(d):
    return {"depth": d, "s2d": model.s2d} if fast else {}

  return {
      "prep": CodePrep(num_classes=num_classes, embed_dim=model.embed_dim, **depth(model.prep_depth), **kw),
      "hide": deepstego.HideNet(channels=channels, residual=model.residual, **depth(model.hide_depth), **kw),
      "reveal": ClassReveal(num_classes=num_classes, gain=model.reveal_gain, **depth(model.reveal_depth), **kw),
  }
