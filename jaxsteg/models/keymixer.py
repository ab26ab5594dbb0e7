"""KeyMixer networks (Iqbal et al. 2026, layers per the methods spec §B [inf]): mixer, encoder, decoder, unmixer.

  S_mix = KeyMixer([S, tanh K]);  C' = Encoder([C, S_mix]);  S_mix' = Decoder(C');  S' = UnMixer([S_mix', tanh K])

K is a (key_size, key_size, key_channels) tensor tiled periodically over the image from its top-left corner, so
any image size works. Two architectures, chosen by `arch`:
- 'spec' [methods spec §B]: full resolution. Mixer/unmixer: 3 × [Block(3,64), Norm, ReLU], Conv3 → C, sigmoid.
  Encoder: [C, S_mix] → 6 × [Block(3,64), Norm, ReLU] → Conv3 → C, sigmoid. Decoder: 6 × [Block(3,64), Norm,
  ReLU] → Conv3 → C. Norm = GroupNorm [inf: batch-independent, no mutable state under data parallelism].
- 'fast' [inf, ours, for CPUs]: every net works at reduced resolution (space-to-depth by `s2d`) with plain
  3×3 conv stacks and a linear skip from its input; the container is residual (C' = C + Encoder(...)).
Both accept `key_product` [inf]: the mixer/unmixer also see (x − ½)·tanh K, so a key-dependent sign flip of
the secret (which makes a wrong key reveal noise) is a linear function of their inputs and is learned quickly.
"""

from __future__ import annotations

import flax.linen as nn
import jax.numpy as jnp
import ml_collections

from jaxsteg.models import layers


def tile_key(key: jnp.ndarray, height: int, width: int) -> jnp.ndarray:
  """Key (ks, ks, kc) or per-example keys (B, ks, ks, kc) -> tiled to (.., height, width, kc)."""
  ks_h, ks_w = key.shape[-3], key.shape[-2]
  reps_h, reps_w = -(-height // ks_h), -(-width // ks_w)
  reps = (1,) * (key.ndim - 3) + (reps_h, reps_w, 1)
  return jnp.tile(key, reps)[..., :height, :width, :]


def _key_features(x: jnp.ndarray, key: jnp.ndarray, product: bool) -> jnp.ndarray:
  """[x − ½, tanh K (tiled, broadcast over the batch), optionally (x − ½)·tanh K on matching channels]."""
  b, h, w, c = x.shape
  k = jnp.tanh(tile_key(key, h, w))
  k = jnp.broadcast_to(k, (b, h, w, k.shape[-1]))
  feats = [x - 0.5, k]
  if product:
    reps = -(-c // k.shape[-1])
    feats.append((x - 0.5) * jnp.tile(k, (1, 1, 1, reps))[..., :c])
  return jnp.concatenate(feats, axis=-1)


class NormConvStack(nn.Module):
  """`depth` × [Block(3, width), GroupNorm, ReLU] (the spec's conv body)."""
  width: int
  depth: int
  groups: int = 8

  @nn.compact
  def __call__(self, x):
    for _ in range(self.depth):
      x = nn.relu(nn.GroupNorm(num_groups=min(self.groups, self.width))(layers.Block(self.width, 3)(x)))
    return x


class Mixer(nn.Module):
  """KeyMixer (and, with the same shape, UnMixer): ([S or S_mix'], K) -> image in [0, 1] (B, H, W, C)."""
  arch: str
  channels: int = 3
  width: int = 64
  depth: int = 3
  s2d: int = 1
  key_product: bool = True

  @nn.compact
  def __call__(self, x, key):
    if self.arch == "spec":
      h = NormConvStack(self.width, self.depth)(_key_features(x, key, self.key_product))
      return nn.sigmoid(nn.Conv(self.channels, (3, 3), name="out")(h))
    x = layers.space_to_depth(x, self.s2d)
    f = _key_features(x, key, self.key_product)
    h = layers.ConvStack(self.width, self.depth)(f)
    out = nn.Conv(x.shape[-1], (3, 3), name="out")(h) + nn.Conv(x.shape[-1], (1, 1), name="skip")(f)
    return layers.depth_to_space(nn.sigmoid(out), self.s2d)


class Encoder(nn.Module):
  """[C, S_mix] -> container (B, H, W, C); unbounded for 'fast' (residual), sigmoid for 'spec'."""
  arch: str
  channels: int = 3
  width: int = 64
  depth: int = 6
  s2d: int = 1

  @nn.compact
  def __call__(self, cover, mixed):
    if self.arch == "spec":
      h = NormConvStack(self.width, self.depth)(jnp.concatenate([cover, mixed], axis=-1))
      return nn.sigmoid(nn.Conv(self.channels, (3, 3), name="out")(h))
    c = layers.space_to_depth(cover, self.s2d)
    x = jnp.concatenate([c, layers.space_to_depth(mixed, self.s2d)], axis=-1)
    h = layers.ConvStack(self.width, self.depth)(x)
    out = nn.Conv(c.shape[-1], (3, 3), name="out")(h) + nn.Conv(c.shape[-1], (1, 1), name="skip")(x)
    return cover + layers.depth_to_space(out, self.s2d)


class Decoder(nn.Module):
  """Container -> S_mix' (B, H, W, C), linear output."""
  arch: str
  channels: int = 3
  width: int = 64
  depth: int = 6
  s2d: int = 1

  @nn.compact
  def __call__(self, container):
    if self.arch == "spec":
      return nn.Conv(self.channels, (3, 3), name="out")(NormConvStack(self.width, self.depth)(container))
    x = layers.space_to_depth(container, self.s2d)
    h = layers.ConvStack(self.width, self.depth)(x)
    c = self.channels * self.s2d * self.s2d
    out = nn.Conv(c, (3, 3), name="out")(h) + nn.Conv(c, (1, 1), name="skip")(x)
    return layers.depth_to_space(out, self.s2d)


def make_networks(model: ml_collections.ConfigDict, channels: int) -> dict[str, nn.Module]:
  """{'mixer', 'encoder', 'decoder', 'unmixer'}; the key (trainable mode) is a separate parameter."""
  if model.arch not in ("spec", "fast"):
    raise ValueError(f"model.arch must be 'spec' or 'fast', got {model.arch!r}")
  s2d = model.s2d if model.arch == "fast" else 1
  kw = dict(arch=model.arch, channels=channels, width=model.width, s2d=s2d)
  mix = dict(key_product=model.key_product, **kw)
  return {
      "mixer": Mixer(depth=model.mixer_depth, **mix),
      "encoder": Encoder(depth=model.encoder_depth, **kw),
      "decoder": Decoder(depth=model.decoder_depth, **kw),
      "unmixer": Mixer(depth=model.mixer_depth, **mix),
  }


def key_shape(model: ml_collections.ConfigDict) -> tuple[int, int, int]:
  """Shape of one key tensor. For 'fast' it lives at the reduced resolution (tile period key_size·s2d px)."""
  return (model.key_size, model.key_size, model.key_channels)
