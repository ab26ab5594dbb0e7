"""Exact text payloads: the codec (`codec`, format constants in `spec`, sizing in `plan`, the convolutional inner
code in `convcode`) and a trained bit model as a host-side channel (`channel`, with hide-time `refine`ment)."""
