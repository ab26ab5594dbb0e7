"""PyTorch references of jaxsteg's networks and train steps, for speed comparison only, by `config.task`:

  deepstego   Deep Steganography (here): same layers, same loss (MSE(C, C') + β MSE(S, S') with container
              noise), Adam.
  invertible  HiNet-class (benchmarks/torch_invertible.py): same Haar transform, coupling blocks, losses, 8-bit
              rounding, z and optimizer.
NCHW as PyTorch prefers. Install with `pip install torch==2.13.0` (CPU wheel). Not used by jaxsteg itself.
"""

from __future__ import annotations

import time

TASKS = ("deepstego", "invertible")   # The tasks with a PyTorch reference.


def _check(config) -> None:
  if config.task not in TASKS:
    raise ValueError(f"no PyTorch reference for task {config.task!r} (have: {', '.join(TASKS)})")


def _build(config, torch):
  """The reference network(s) of `config.task` (one nn.Module)."""
  _check(config)
  if config.task == "invertible":
    from benchmarks import torch_invertible  # pylint: disable=g-import-not-at-top
    return torch_invertible.build(config)
  return _build_deepstego(config, torch)


def _build_deepstego(config, torch):
  """Prep, hide and reveal networks of a Deep Steganography `config.model` (arch blog, light or fast)."""
  nn = torch.nn
  m = config.model

  def conv(cin, cout, k):
    return nn.Conv2d(cin, cout, k, padding="same")

  class Parallel(nn.Module):
    def __init__(self, cin, feats, kernels):
      super().__init__()
      self.convs = nn.ModuleList([conv(cin, f, k) for f, k in zip(feats, kernels)])

    def forward(self, x):
      return torch.cat([torch.relu(c(x)) for c in self.convs], 1)

  class MultiBlock(nn.Module):
    def __init__(self, cin, width=50, depth=4):
      super().__init__()
      self.branches = nn.ModuleList()
      for k in (3, 4, 5):
        layers, c = [], cin
        for _ in range(depth):
          layers += [conv(c, width, k), nn.ReLU()]
          c = width
        self.branches.append(nn.Sequential(*layers))
      self.final = Parallel(3 * width, (width,) * 3, (5, 4, 3))

    def forward(self, x):
      return self.final(torch.cat([b(x) for b in self.branches], 1))

  def light(cin, n):
    layers, c = [], cin
    for _ in range(n):
      layers.append(Parallel(c, (50, 10, 5), (3, 4, 5)))
      c = 65
    return nn.Sequential(*layers)

  def stack(cin, width, depth):
    layers, c = [], cin
    for _ in range(depth):
      layers += [conv(c, width, 3), nn.ReLU()]
      c = width
    return nn.Sequential(*layers)

  ch = config.data.channels
  k = m.num_secrets
  s2d = m.s2d if m.arch == "fast" else 1

  class Prep(nn.Module):
    def __init__(self):
      super().__init__()
      if m.arch == "blog":
        self.body, self.out_ch = MultiBlock(ch, m.width), 3 * m.width
      elif m.arch == "light":
        self.body, self.out_ch = light(ch, 2), 65
      else:
        self.body, self.out_ch = stack(ch * s2d * s2d, m.width, m.prep_depth), ch * s2d * s2d + m.width

    def forward(self, s):
      if m.arch != "fast":
        return self.body(s)
      x = nn.functional.pixel_unshuffle(s, s2d)
      return torch.cat([x, self.body(x)], 1)

  class Hide(nn.Module):
    def __init__(self, prep_ch):
      super().__init__()
      cin = ch * s2d * s2d + k * prep_ch
      if m.arch == "blog":
        self.body, self.out = MultiBlock(cin, m.width), nn.Conv2d(3 * m.width, ch, 1)
      elif m.arch == "light":
        self.body, self.out = light(cin, 5), nn.Conv2d(65, ch, 1)
      else:
        self.body = stack(cin, m.width, m.hide_depth)
        self.out = conv(m.width, ch * s2d * s2d, 3)
        self.skip = nn.Conv2d(cin, ch * s2d * s2d, 1)

    def forward(self, cover, prepared):
      if m.arch != "fast":
        out = self.out(self.body(torch.cat([cover, *prepared], 1)))
      else:
        x = torch.cat([nn.functional.pixel_unshuffle(cover, s2d), *prepared], 1)
        out = nn.functional.pixel_shuffle(self.out(self.body(x)) + self.skip(x), s2d)
      return cover + out if m.residual else out

  class Reveal(nn.Module):
    def __init__(self):
      super().__init__()
      if m.arch == "blog":
        self.body, self.out = MultiBlock(ch, m.width), nn.Conv2d(3 * m.width, ch, 1)
      elif m.arch == "light":
        self.body, self.out = light(ch, 5), nn.Conv2d(65, ch, 1)
      else:
        cin = ch * s2d * s2d
        self.body = stack(cin, m.width, m.reveal_depth)
        self.out = conv(m.width, cin, 3)
        self.skip = nn.Conv2d(cin, cin, 1)

    def forward(self, c):
      if m.arch != "fast":
        return self.out(self.body(c))
      x = nn.functional.pixel_unshuffle(c, s2d)
      return nn.functional.pixel_shuffle(self.out(self.body(x)) + self.skip(x), s2d)

  preps = nn.ModuleList([Prep() for _ in range(k)])
  hide = Hide(preps[0].out_ch)
  reveals = nn.ModuleList([Reveal() for _ in range(k)])
  return nn.ModuleDict({"prep": preps, "hide": hide, "reveal": reveals})


def _deepstego_step(config, torch, batch: int, size: int):
  """A function running one Deep Steganography train step on a random batch -> loss."""
  nets = _build_deepstego(config, torch)
  opt = torch.optim.Adam(nets.parameters(), lr=config.optim.learning_rate)
  ch, k = config.data.channels, config.model.num_secrets
  cover = torch.rand(batch, ch, size, size)
  secrets = [torch.rand(batch, ch, size, size) for _ in range(k)]
  beta, sigma = config.loss.beta, config.loss.noise_std

  def step():
    opt.zero_grad(set_to_none=True)
    prepared = [p(s) for p, s in zip(nets["prep"], secrets)]
    container = nets["hide"](cover, prepared)
    received = container + sigma * torch.randn_like(container)
    loss = torch.mean((container - cover) ** 2)
    for r, s in zip(nets["reveal"], secrets):
      loss = loss + beta * torch.mean((r(received) - s) ** 2)
    loss.backward()
    opt.step()
    return loss

  return step


def _invertible_step(config, batch: int, size: int):
  """A function running one invertible (HiNet-class) train step on a random batch -> loss."""
  from benchmarks import torch_invertible  # pylint: disable=g-import-not-at-top
  return torch_invertible.make_train_step(config, torch_invertible.build(config),
                                          *torch_invertible.example_batch(config, batch, size))


def time_torch(config, size: int, batch: int, steps: int, threads: int = 0) -> dict:
  """Seconds per train step of the PyTorch reference of `config.task` (after one warm-up step)."""
  _check(config)
  import torch  # pylint: disable=g-import-not-at-top
  if threads:
    torch.set_num_threads(threads)
  torch.manual_seed(0)
  if config.task == "invertible":
    step = _invertible_step(config, batch, size)
  else:
    step = _deepstego_step(config, torch, batch, size)
  step()
  t0 = time.perf_counter()
  for _ in range(steps):
    step()
  return {"s_per_step": (time.perf_counter() - t0) / steps, "version": torch.__version__}
