"""The persistent compilation cache that conftest.py sets through the environment reaches subprocesses: a
program compiled in one process loads from disk in the next (`jax_explain_cache_misses` reports no miss)."""

import os
import subprocess
import sys

import pytest

PROGRAM = """
import jax, jax.numpy as jnp
jax.config.update("jax_explain_cache_misses", True)
def cache_probe(x):
  for _ in range(8):
    x = jnp.tanh(x @ x.T) + 0.5
  return x
print(float(jax.jit(cache_probe)(jnp.eye(16)).sum()))
"""


@pytest.mark.skipif(not os.environ.get("JAX_COMPILATION_CACHE_DIR"), reason="compilation cache disabled")
def test_subprocesses_share_the_compilation_cache():
  runs = [subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, check=True,
                         env=dict(os.environ)) for _ in range(2)]   # The first compiles (or finds it cached).
  assert runs[0].stdout == runs[1].stdout
  miss = "PERSISTENT COMPILATION CACHE MISS for 'jit_cache_probe'"
  assert miss not in runs[1].stderr, runs[1].stderr[-2000:]
  assert os.listdir(os.environ["JAX_COMPILATION_CACHE_DIR"])
