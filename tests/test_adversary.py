"""`loss.adversary`: a steganalyser trains in the hider's own step, each network on its own objective."""

import jax
import jax.numpy as jnp
import numpy as np

from configs import bits_adversarial_embedded
from configs import bits_embedded
from configs import deepstego_adversarial_embedded
from configs import deepstego_embedded
from jaxsteg.tasks import bits
from jaxsteg.tasks import deepstego


def _batch(config, seed=0):
  rng = np.random.default_rng(seed)
  size = config.data.image_size
  return {"cover": rng.integers(0, 256, (8, size, size, 3), dtype=np.uint8),
          "secret": rng.integers(0, 256, (8, 1, size, size, 3), dtype=np.uint8)}


def test_off_by_default():
  config = deepstego_embedded.get_config("tiny")
  assert not deepstego.adversarial(config) and "adversary" not in deepstego.networks(config)


def test_the_detector_and_the_hider_each_get_their_own_gradient():
  config = deepstego_adversarial_embedded.get_config("tiny")
  assert deepstego.adversarial(config)
  batch = _batch(config)
  state = jax.jit(lambda r: deepstego.init_state(config, r, batch))(jax.random.key(0))
  params = state["params"]
  rng = jax.random.key(1)
  grads = jax.jit(jax.grad(lambda p: deepstego.loss_fn(config, p, batch, rng, 1.0)[0]))(params)
  # The detector's gradient is that of its own cross-entropy alone (the hider's terms see it frozen).
  def detector_only(p_adv):
    nets = deepstego.networks(config)
    cover = jnp.asarray(batch["cover"], jnp.float32) / 255.0
    secrets = jnp.asarray(batch["secret"], jnp.float32) / 255.0
    container = deepstego.hide(nets, params, cover, secrets)
    p = dict(params, adversary=p_adv)
    _, aux = deepstego._with_adversary(config, nets, p, cover, container, 0.0)  # pylint: disable=protected-access
    return aux["adversary_loss"]
  want = jax.jit(jax.grad(detector_only))(params["adversary"])
  for a, b in zip(jax.tree.leaves(grads["adversary"]), jax.tree.leaves(want)):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-3, atol=1e-5)
  # The fooling term reaches the hide network: its gradient changes with the adversary's weight.
  heavier = deepstego_adversarial_embedded.get_config("tiny,weight=10.0")
  grads_heavy = jax.jit(jax.grad(lambda p: deepstego.loss_fn(heavier, p, batch, rng, 1.0)[0]))(params)
  diff = sum(float(jnp.sum(jnp.abs(a - b))) for a, b in zip(jax.tree.leaves(grads["hide"]),
                                                            jax.tree.leaves(grads_heavy["hide"])))
  assert diff > 0
  assert any(float(jnp.max(jnp.abs(g))) > 0 for g in jax.tree.leaves(grads["adversary"]))


def test_bits_encoder_plays_the_same_game():
  """The bit family with `loss.adversary`: the detector trains on its own cross-entropy only, the encoder's
  gradient gains the fooling term, the decoder's does not change; off in the demo config."""
  assert not bits.adversarial(bits_embedded.get_config("tiny"))
  config = bits_adversarial_embedded.get_config("tiny")
  heavier = bits_adversarial_embedded.get_config("tiny,weight=10.0")
  assert bits.adversarial(config) and "adversary" in bits.networks(config)
  batch = {"cover": np.random.default_rng(0).integers(0, 256, (8, 16, 16, 3), dtype=np.uint8)}
  state = jax.jit(lambda r: bits.init_state(config, r, batch))(jax.random.key(0))
  assert set(state["opt_state"]) == {"encoder", "decoder", "critic", "adversary"}
  rng = jax.random.key(1)
  grad = lambda c: jax.jit(jax.grad(lambda p: bits.loss_fn(c, p, batch, rng)[0]))(state["params"])  # noqa: E731
  light, heavy = grad(config), grad(heavier)

  def moved(name):
    return sum(float(jnp.sum(jnp.abs(a - b))) for a, b in zip(jax.tree.leaves(light[name]),
                                                              jax.tree.leaves(heavy[name])))

  assert moved("encoder") > 0 and moved("decoder") == 0 and moved("adversary") == 0
  assert any(float(jnp.max(jnp.abs(g))) > 0 for g in jax.tree.leaves(light["adversary"]))
