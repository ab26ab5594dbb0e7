#!/usr/bin/env python3
"""Convert the PyTorch FID Inception and LPIPS VGG weights into the `.npz` files jaxsteg's evaluation reads.

  python launch/convert_fid_weights.py --fid_pth pt_inception-2015-12-05-6726825d.pth --fid_out fid_inception.npz
  python launch/convert_fid_weights.py --lpips_out lpips_vgg.npz [--vgg_pth vgg16-397923af.pth] [--lpips_pth vgg.pth]
then evaluate with --config.evals.fid_lpips.fid_weights=fid_inception.npz
--config.evals.fid_lpips.lpips_weights=lpips_vgg.npz.

Needs torch (only this tool does). --fid_pth: pytorch-fid's weights (pytorch_fid.inception.FID_WEIGHTS_URL);
without it they are fetched from that address (needs pytorch-fid and a network). --vgg_pth: torchvision's
VGG16 IMAGENET1K_V1 state_dict; without it torchvision fetches it. --lpips_pth: the lpips package's
weights/v0.1/vgg.pth (shipped with `pip install lpips`, used by default). Keys are kept as PyTorch names them
(formats: jaxsteg/models/inception.py, jaxsteg/models/lpips.py); the loaders transpose the kernels.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

import numpy as np


def _need(module: str, package: str, what: str):
  try:
    return importlib.import_module(module)
  except ImportError:
    sys.exit(f"convert_fid_weights.py: {what} needs {module} (pip install {package})")


def _torch():
  return _need("torch", "torch", "reading PyTorch weights")


def _save(path: str, state: dict) -> None:
  np.savez(path, **{k: v.detach().cpu().numpy() for k, v in state.items()})
  print(f"wrote {path} ({len(state)} arrays)")


def fid_state(fid_pth: str | None) -> dict:
  torch = _torch()
  if fid_pth:
    return torch.load(fid_pth, map_location="cpu")
  url = _need("pytorch_fid.inception", "pytorch-fid", "fetching the FID weights (no --fid_pth)").FID_WEIGHTS_URL
  return torch.hub.load_state_dict_from_url(url, map_location="cpu")


def lpips_state(vgg_pth: str | None, lpips_pth: str | None) -> dict:
  torch = _torch()
  if vgg_pth:
    vgg = torch.load(vgg_pth, map_location="cpu")
  else:
    torchvision = _need("torchvision", "torchvision", "fetching VGG16 (no --vgg_pth)")
    vgg = torchvision.models.vgg16(weights="IMAGENET1K_V1").state_dict()
  if not lpips_pth:
    lpips = _need("lpips", "lpips", "the default --lpips_pth")
    lpips_pth = os.path.join(os.path.dirname(lpips.__file__), "weights", "v0.1", "vgg.pth")
  lin = torch.load(lpips_pth, map_location="cpu")
  state = {k: v for k, v in vgg.items() if k.startswith("features.")}
  state.update({k: v for k, v in lin.items() if k.startswith("lin")})
  return state


def _check(path: str, module: str) -> None:
  """Loads the result with jaxsteg's loader when jaxsteg (and JAX) are importable here."""
  sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  try:
    loader = importlib.import_module(f"jaxsteg.models.{module}")
  except ImportError:
    print(f"(jaxsteg/JAX not importable here: {path} not checked)")
    return
  loader.load_params(path)
  print(f"{path}: loads with jaxsteg.models.{module}")


def main(argv=None) -> None:
  p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument("--fid_out", help="output .npz for --config.evals.fid_lpips.fid_weights")
  p.add_argument("--fid_pth", help="pytorch-fid Inception weights (.pth)")
  p.add_argument("--lpips_out", help="output .npz for --config.evals.fid_lpips.lpips_weights")
  p.add_argument("--vgg_pth", help="torchvision VGG16 IMAGENET1K_V1 weights (.pth)")
  p.add_argument("--lpips_pth", help="lpips v0.1 vgg.pth (default: the lpips package's own)")
  args = p.parse_args(argv)
  if not args.fid_out and not args.lpips_out:
    p.error("give --fid_out and/or --lpips_out")
  if args.fid_out:
    _save(args.fid_out, fid_state(args.fid_pth))
    _check(args.fid_out, "inception")
  if args.lpips_out:
    _save(args.lpips_out, lpips_state(args.vgg_pth, args.lpips_pth))
    _check(args.lpips_out, "lpips")


if __name__ == "__main__":
  main()
