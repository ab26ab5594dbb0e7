"""jaxsteg: learned image steganography and neural image encryption in JAX/Flax."""

__version__ = "0.1.0"
