"""Deep Steganography networks (Baluja 2017): prep, hide and reveal.

P = Prep(S); C' = Hide([C, P1..PK]); S' = Reveal(C'). Three architectures, chosen by `arch`:
- 'blog': the blog-version MultiBlock nets (Prep: MultiBlock; Hide/Reveal: MultiBlock + linear 1×1 → 3).
- 'light': the lighter Keras variant (Prep 2 layers, Hide/Reveal 5 layers of [3×3×50, 4×4×10, 5×5×5]).
- 'fast' [inf, ours, for CPUs]: 3×3 conv stacks at reduced resolution (space-to-depth by `s2d`), a residual
  container C' = C + Hide(...), and a linear skip from the input to the output of each net, so the useful
  linear part of hiding (a high-frequency carrier) is learned quickly. Not in the paper.
"""

from __future__ import annotations

import flax.linen as nn
import jax.numpy as jnp
import ml_collections

from jaxsteg.models import layers


class PrepNet(nn.Module):
  """Prepares one secret image for hiding: (B, H, W, C) -> (B, H', W', F)."""
  arch: str
  width: int = 50
  depth: int = 2
  s2d: int = 1

  @nn.compact
  def __call__(self, secret):
    if self.arch == "blog":
      return layers.MultiBlock(self.width)(secret)
    if self.arch == "light":
      return layers.LightStack(2)(secret)
    x = layers.space_to_depth(secret, self.s2d)
    return jnp.concatenate([x, layers.ConvStack(self.width, self.depth)(x)], axis=-1)


class HideNet(nn.Module):
  """Cover + prepared secrets -> container (B, H, W, C), unbounded (rounded to 8 bits when sent)."""
  arch: str
  channels: int = 3
  width: int = 50
  depth: int = 4
  s2d: int = 1
  residual: bool = False

  @nn.compact
  def __call__(self, cover, prepared):
    if self.arch in ("blog", "light"):
      x = jnp.concatenate([cover, *prepared], axis=-1)
      h = layers.MultiBlock(self.width)(x) if self.arch == "blog" else layers.LightStack(5)(x)
      out = nn.Conv(self.channels, (1, 1))(h)
    else:
      c = layers.space_to_depth(cover, self.s2d)
      x = jnp.concatenate([c, *prepared], axis=-1)
      h = layers.ConvStack(self.width, self.depth)(x)
      out = nn.Conv(c.shape[-1], (3, 3), name="out")(h) + nn.Conv(c.shape[-1], (1, 1), name="skip")(x)
      out = layers.depth_to_space(out, self.s2d)
    return cover + out if self.residual else out


class RevealNet(nn.Module):
  """Container -> one revealed secret (B, H, W, C)."""
  arch: str
  channels: int = 3
  width: int = 50
  depth: int = 4
  s2d: int = 1

  @nn.compact
  def __call__(self, container):
    if self.arch == "blog":
      return nn.Conv(self.channels, (1, 1))(layers.MultiBlock(self.width)(container))
    if self.arch == "light":
      return nn.Conv(self.channels, (1, 1))(layers.LightStack(5)(container))
    x = layers.space_to_depth(container, self.s2d)
    h = layers.ConvStack(self.width, self.depth)(x)
    c = self.channels * self.s2d * self.s2d
    out = nn.Conv(c, (3, 3), name="out")(h) + nn.Conv(c, (1, 1), name="skip")(x)
    return layers.depth_to_space(out, self.s2d)


def make_networks(model: ml_collections.ConfigDict, channels: int) -> dict[str, nn.Module]:
  """One prep and one reveal network per secret, one hide network: {'prep_0', .., 'hide', 'reveal_0', ..}."""
  if model.arch not in ("blog", "light", "fast"):
    raise ValueError(f"model.arch must be 'blog', 'light' or 'fast', got {model.arch!r}")
  # 'blog' uses `width` (50 in the paper); 'light' has fixed widths; 'fast' uses all fields.
  kw = dict(arch=model.arch, width=model.width)
  if model.arch == "fast":
    depth = lambda d: dict(depth=d, s2d=model.s2d)  # pylint: disable=unnecessary-lambda-assignment
  else:
    depth = lambda d: {}  # pylint: disable=unnecessary-lambda-assignment
  nets = {"hide": HideNet(channels=channels, residual=model.residual, **depth(model.hide_depth), **kw)}
  for k in range(model.num_secrets):
    nets[f"prep_{k}"] = PrepNet(**depth(model.prep_depth), **kw)
    nets[f"reveal_{k}"] = RevealNet(channels=channels, **depth(model.reveal_depth), **kw)
  return nets
