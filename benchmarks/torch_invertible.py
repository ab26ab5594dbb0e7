"""PyTorch port of the invertible (HiNet-class) network and train step, for speed comparison only.

The same computation as jaxsteg.models.invertible and jaxsteg.tasks.invertible, in NCHW as PyTorch prefers:
  - the orthonormal one-level Haar DWT / IWT, band-major [LL | HL | LH | HH];
  - `model.blocks` affine coupling blocks, each with φ, ρ, η dense 5-conv blocks (4 × Conv3×3 of `model.growth`
    filters with LeakyReLU 0.01 on the concatenation of all earlier features, then a zero-initialised Conv3×3),
    scale clamp · (2σ(ρ) − 1); kernels otherwise initialised as Flax does (LeCun truncated normal, zero bias);
  - losses as means: guide MSE(C, C'), reconstruction MSE(S, S'), low-frequency MSE of the LL bands, weighted
    by `loss.*_weight`; the revealer sees the container through `loss.rounding` (ste / pris / none) with z from
    `model.reveal_z` (zeros or N(0, I), drawn afresh each step);
  - the optimizer of `config.optim`: global-norm clipping, Adam(W) with its β and schedule, and non-finite
    updates skipped.
Not ported: the `noise` block (differentiable distortions), micro-batches and data parallelism.
Reached through benchmarks/torch_reference.py (`config.task == 'invertible'`).
"""

from __future__ import annotations

import math

import torch
from torch import nn

# Flax's truncated normal: a standard normal cut at ±2 has this standard deviation.
_TRUNCATED_STD = 0.87962566103423978


def dwt(x: torch.Tensor) -> torch.Tensor:
  """Orthonormal one-level Haar DWT: (B, C, H, W) with even H, W -> (B, 4C, H/2, W/2) [LL | HL | LH | HH]."""
  a, b = x[:, :, 0::2, 0::2], x[:, :, 0::2, 1::2]
  c, d = x[:, :, 1::2, 0::2], x[:, :, 1::2, 1::2]
  return 0.5 * torch.cat([a + b + c + d, -a + b - c + d, -a - b + c + d, a - b - c + d], 1)


def iwt(y: torch.Tensor) -> torch.Tensor:
  """Inverse of `dwt`: (B, 4C, h, w) -> (B, C, 2h, 2w)."""
  ll, hl, lh, hh = torch.chunk(y, 4, 1)
  a, b = 0.5 * (ll - hl - lh + hh), 0.5 * (ll + hl - lh - hh)
  c, d = 0.5 * (ll - hl + lh - hh), 0.5 * (ll + hl + lh + hh)
  bsz, ch, h, w = ll.shape
  top = torch.stack([a, b], -1).reshape(bsz, ch, h, 2 * w)
  bottom = torch.stack([c, d], -1).reshape(bsz, ch, h, 2 * w)
  return torch.stack([top, bottom], 3).reshape(bsz, ch, 2 * h, 2 * w)


def conv3x3(cin: int, cout: int, zero: bool) -> nn.Conv2d:
  """A 'SAME' Conv3×3 initialised as Flax's nn.Conv: LeCun truncated-normal kernel (or zeros), zero bias."""
  conv = nn.Conv2d(cin, cout, 3, padding=1)
  if zero:
    nn.init.zeros_(conv.weight)
  else:
    std = math.sqrt(1.0 / (9 * cin)) / _TRUNCATED_STD
    nn.init.trunc_normal_(conv.weight, std=std, a=-2.0 * std, b=2.0 * std)
  nn.init.zeros_(conv.bias)
  return conv


class DenseBlock(nn.Module):
  """HiNet's 5-conv dense block from `cin` to `cout` channels; the last conv is zero-initialised."""

  def __init__(self, cin: int, cout: int, growth: int, zero_init: bool = True):
    super().__init__()
    self.convs = nn.ModuleList([conv3x3(cin + i * growth, growth, False) for i in range(4)]
                               + [conv3x3(cin + 4 * growth, cout, zero_init)])

  def forward(self, x):
    feats = [x]
    for conv in self.convs[:-1]:
      feats.append(nn.functional.leaky_relu(conv(torch.cat(feats, 1)), 0.01))
    return self.convs[-1](torch.cat(feats, 1))


class CouplingBlock(nn.Module):
  """One affine coupling block: `forward` and its exact `inverse`, same parameters."""

  def __init__(self, features1: int, features2: int, growth: int, clamp: float, zero_init: bool = True):
    super().__init__()
    self.phi = DenseBlock(features2, features1, growth, zero_init)
    self.rho = DenseBlock(features1, features2, growth, zero_init)
    self.eta = DenseBlock(features1, features2, growth, zero_init)
    self.clamp = clamp

  def _log_scale(self, y1):
    return self.clamp * (2.0 * torch.sigmoid(self.rho(y1)) - 1.0)

  def forward(self, x1, x2):
    y1 = x1 + self.phi(x2)
    return y1, x2 * torch.exp(self._log_scale(y1)) + self.eta(y1)

  def inverse(self, y1, y2):
    x2 = (y2 - self.eta(y1)) * torch.exp(-self._log_scale(y1))
    return y1 - self.phi(x2), x2


class InvertibleHider(nn.Module):
  """`blocks` coupling blocks on (cover bands, secret bands); `inverse` reveals with z for the discarded half."""

  def __init__(self, features1: int, features2: int, blocks: int, growth: int, clamp: float,
               zero_init: bool = True):
    super().__init__()
    self.layers = nn.ModuleList([CouplingBlock(features1, features2, growth, clamp, zero_init)
                                 for _ in range(blocks)])

  def forward(self, x1, x2):
    for layer in self.layers:
      x1, x2 = layer(x1, x2)
    return x1, x2

  def inverse(self, y1, y2):
    for layer in reversed(self.layers):
      y1, y2 = layer.inverse(y1, y2)
    return y1, y2


def build(config, zero_init: bool = True) -> InvertibleHider:
  """The network of `config.model` (blocks, growth, clamp) for `config.data.channels`-channel images."""
  m, bands = config.model, 4 * config.data.channels
  return InvertibleHider(bands, bands, m.blocks, m.growth, m.clamp, zero_init)


def quantize_8bit(x: torch.Tensor) -> torch.Tensor:
  """What a PNG stores: clip to [0, 1], round to the nearest of 256 levels (half to even), back to [0, 1]."""
  return torch.round(torch.clamp(x, 0.0, 1.0) * 255.0) / 255.0


def received(config, container: torch.Tensor) -> torch.Tensor:
  """What the revealer sees in training (`loss.rounding`: ste, pris or none)."""
  if config.loss.rounding == "ste":
    return container + (quantize_8bit(container) - container).detach()
  if config.loss.rounding == "pris":
    slope = 0.5 * math.pi * torch.abs(torch.sin(math.pi * 255.0 * container))
    return quantize_8bit(container).detach() + (container - container.detach()) * slope.detach()
  return container


def reveal_z(config, like: torch.Tensor) -> torch.Tensor:
  """z for the inverse, shaped as the bands `like`: zeros or a fresh N(0, I) draw (`model.reveal_z`)."""
  return torch.zeros_like(like) if config.model.reveal_z == "zero" else torch.randn_like(like)


def loss_fn(config, net: InvertibleHider, cover: torch.Tensor, secret: torch.Tensor):
  """(weighted loss, {guide_mse, reconstruction_mse, low_freq_mse}) on [0, 1] NCHW cover and secret."""
  y1, _ = net(dwt(cover), dwt(secret))
  container = iwt(y1)
  _, bands = net.inverse(dwt(received(config, container)), reveal_z(config, y1))
  revealed = iwt(bands)
  c = cover.shape[1]
  guide = torch.mean((cover - container) ** 2)
  rec = torch.mean((secret - revealed) ** 2)
  low = torch.mean((dwt(cover)[:, :c] - y1[:, :c]) ** 2)
  w = config.loss
  loss = w.guide_weight * guide + w.reconstruction_weight * rec + w.low_freq_weight * low
  return loss, {"guide_mse": guide, "reconstruction_mse": rec, "low_freq_mse": low}


def learning_rate(opt, total_steps: int, step: int) -> float:
  """jaxsteg.optim.make_schedule's rate at update `step` (constant, cosine or linear_decay, after warm-up)."""
  lr, warmup = opt.learning_rate, opt.get("warmup_steps", 0)
  if step < warmup:
    return lr * step / warmup
  step -= warmup
  if opt.schedule == "cosine":
    decay, alpha = max(1, total_steps - warmup), opt.get("final_fraction", 0.0)
    return lr * ((1.0 - alpha) * 0.5 * (1.0 + math.cos(math.pi * min(step, decay) / decay)) + alpha)
  if opt.schedule == "linear_decay":
    start = int(opt.decay_start_fraction * total_steps)
    length = max(1, total_steps - start)
    return lr if step < start else lr * (1.0 - min(step - start, length) / length)
  return lr


def make_optimizer(opt, params) -> torch.optim.Optimizer:
  """Adam or AdamW with `config.optim`'s β (ε 1e-8, as optax's)."""
  betas = (opt.b1, opt.b2)
  if opt.name == "adamw":
    return torch.optim.AdamW(params, lr=opt.learning_rate, betas=betas, eps=1e-8, weight_decay=opt.weight_decay)
  return torch.optim.Adam(params, lr=opt.learning_rate, betas=betas, eps=1e-8)


def example_batch(config, batch: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
  """Random uint8 cover and secret, (batch, C, size, size) each."""
  shape = (batch, config.data.channels, size, size)
  return torch.randint(0, 256, shape, dtype=torch.uint8), torch.randint(0, 256, shape, dtype=torch.uint8)


def make_train_step(config, net: InvertibleHider, cover_u8: torch.Tensor, secret_u8: torch.Tensor):
  """A function running one train step on the uint8 batch (as jaxsteg.tasks.invertible.train_step) -> loss."""
  if config.get("noise") is not None and config.noise.get("layers"):
    raise NotImplementedError("the PyTorch port has no `noise` block (differentiable distortions)")
  opt_cfg = config.optim
  params = list(net.parameters())
  opt = make_optimizer(opt_cfg, params)
  clip = opt_cfg.get("grad_clip") or math.inf
  updates = [0]   # Applied updates: the schedule's step (skipped non-finite updates do not count, as in optax).

  def step():
    for group in opt.param_groups:
      group["lr"] = learning_rate(opt_cfg, config.num_train_steps, updates[0])
    opt.zero_grad(set_to_none=True)
    loss, _ = loss_fn(config, net, cover_u8.float() / 255.0, secret_u8.float() / 255.0)
    loss.backward()
    norm = nn.utils.clip_grad_norm_(params, clip)
    if not opt_cfg.get("skip_nonfinite") or torch.isfinite(norm):
      opt.step()
      updates[0] += 1
    return loss

  return step
