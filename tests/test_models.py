"""Network shapes and parameter counts."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import deepstego_embedded
from jaxsteg.models import deepstego
from jaxsteg.models import layers


def _count(params):
  return sum(x.size for x in jax.tree.leaves(params))


def test_space_to_depth_round_trip():
  x = jnp.arange(2 * 4 * 6 * 3, dtype=jnp.float32).reshape(2, 4, 6, 3)
  y = layers.space_to_depth(x, 2)
  assert y.shape == (2, 2, 3, 12)
  np.testing.assert_array_equal(layers.depth_to_space(y, 2), x)
  # One output position holds its 2x2 block's pixels.
  np.testing.assert_array_equal(y[0, 0, 0].reshape(2, 2, 3), x[0, :2, :2])


def test_blog_network_sizes():
  """Blog version: Prep 150 ch; Hide on 153 ch; Reveal -> 3 ch. Per-net counts from the layer list."""
  cfg = deepstego_embedded.get_config("arch=blog")
  nets = deepstego.make_networks(cfg.model, 3)
  s = jnp.zeros((1, 16, 16, 3))
  prep = nets["prep_0"].init(jax.random.key(0), s)
  p = nets["prep_0"].apply(prep, s)
  assert p.shape == (1, 16, 16, 150)
  hide = nets["hide"].init(jax.random.key(1), s, [p])
  reveal = nets["reveal_0"].init(jax.random.key(2), s)
  c = nets["hide"].apply(hide, s, [p])
  assert c.shape == (1, 16, 16, 3)
  assert nets["reveal_0"].apply(reveal, c).shape == (1, 16, 16, 3)

  def multiblock(cin):
    n = 0
    for k in (3, 4, 5):
      n += k * k * cin * 50 + 50 + 3 * (k * k * 50 * 50 + 50)
    return n + sum(k * k * 150 * 50 + 50 for k in (5, 4, 3))

  assert _count(prep) == multiblock(3)
  assert _count(hide) == multiblock(153) + 150 * 3 + 3
  assert _count(reveal) == multiblock(3) + 150 * 3 + 3


def test_light_network_channels():
  cfg = deepstego_embedded.get_config("arch=light")
  nets = deepstego.make_networks(cfg.model, 3)
  s = jnp.zeros((1, 8, 8, 3))
  prep = nets["prep_0"].init(jax.random.key(0), s)
  assert nets["prep_0"].apply(prep, s).shape == (1, 8, 8, 65)


@pytest.mark.parametrize("k", [1, 3])
def test_fast_network_shapes_and_secrets(k):
  cfg = deepstego_embedded.get_config(f"secrets={k}")
  nets = deepstego.make_networks(cfg.model, 3)
  assert sorted(nets) == sorted(["hide"] + [f"prep_{i}" for i in range(k)] + [f"reveal_{i}" for i in range(k)])
  c = jnp.zeros((2, 12, 20, 3))
  preps = []
  for i in range(k):
    pp = nets[f"prep_{i}"].init(jax.random.key(i), c)
    preps.append(nets[f"prep_{i}"].apply(pp, c))
  hp = nets["hide"].init(jax.random.key(9), c, preps)
  out = nets["hide"].apply(hp, c, preps)
  assert out.shape == c.shape


def test_fast_rejects_odd_sizes():
  cfg = deepstego_embedded.get_config()
  nets = deepstego.make_networks(cfg.model, 3)
  with pytest.raises(ValueError, match="multiple of 2"):
    nets["reveal_0"].init(jax.random.key(0), jnp.zeros((1, 15, 16, 3)))
