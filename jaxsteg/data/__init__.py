"""Input: dataset specs, the offline embedded default, grain pipelines, EncryptGAN domains, preparing TFDS data."""
