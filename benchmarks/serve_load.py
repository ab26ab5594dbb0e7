"""Load check of `jaxsteg serve`: requests/s and p50/p99 latency of 64 sequential and 16 concurrent embeds of a
256×256 cover (a real threaded server on 127.0.0.1, a port of its own), with zero errors required.

  python benchmarks/serve_load.py --workdir runs/deepstego_embedded [--requests 64] [--concurrency 16]

A bit-payload workdir is sent a short text instead of a secret image. Prints a table; exits 1 on any error.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import io
import logging
import sys
import threading
import time
import urllib.error
import urllib.request

import numpy as np


def _multipart(fields: dict) -> tuple[bytes, str]:
  boundary = "jaxsteg-load-boundary"
  out = io.BytesIO()
  for name, value in fields.items():
    out.write(f"--{boundary}\r\n".encode())
    if isinstance(value, bytes):
      out.write(f'Content-Disposition: form-data; name="{name}"; filename="{name}.png"\r\n'
                f"Content-Type: image/png\r\n\r\n".encode() + value + b"\r\n")
    else:
      out.write(f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
  out.write(f"--{boundary}--\r\n".encode())
  return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def _timed_post(url: str, body: bytes, content_type: str) -> tuple[float, str | None]:
  start = time.perf_counter()
  try:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    with urllib.request.urlopen(req, timeout=300) as r:
      ok = r.status == 200 and r.read()[:8] == b"\x89PNG\r\n\x1a\n"
      error = None if ok else f"status {r.status} or not a PNG"
  except (urllib.error.URLError, OSError) as e:
    error = str(e)
  return time.perf_counter() - start, error


def _row(name: str, latencies: list[float], wall: float, errors: int) -> str:
  ms = np.asarray(latencies) * 1000.0
  return (f"| {name:<22} | {len(ms):>8} | {len(ms) / wall:>10.2f} | {np.percentile(ms, 50):>8.1f} | "
          f"{np.percentile(ms, 99):>8.1f} | {errors:>6} |")


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--workdir", required=True)
  p.add_argument("--requests", type=int, default=64, help="sequential embeds")
  p.add_argument("--concurrency", type=int, default=16, help="embeds sent at once")
  p.add_argument("--size", type=int, default=256)
  args = p.parse_args(argv)

  from werkzeug import serving  # pylint: disable=g-import-not-at-top
  from jaxsteg import images as image_io  # pylint: disable=g-import-not-at-top
  from jaxsteg.cli import common  # pylint: disable=g-import-not-at-top
  from jaxsteg.serve import app as app_lib, models as models_lib  # pylint: disable=g-import-not-at-top,multiple-imports

  common.enable_compilation_cache()
  start = time.perf_counter()
  models = models_lib.load_models([args.workdir])
  model = next(iter(models.values()))
  models_lib.warm_up(model, args.size)
  print(f"model {model.name} ({model.kind}) loaded and compiled in {time.perf_counter() - start:.1f} s")
  logging.getLogger("werkzeug").setLevel(logging.WARNING)   # No line per request in the table's output.
  server = serving.make_server("127.0.0.1", 0, app_lib.create_app(models), threaded=True)
  thread = threading.Thread(target=server.serve_forever, daemon=True)
  thread.start()
  url = f"http://127.0.0.1:{server.port}/api/embed"
  rng = np.random.default_rng(0)
  from skimage import data  # pylint: disable=g-import-not-at-top
  photo = np.ascontiguousarray(data.astronaut()[:args.size, :args.size])
  fields = {"cover": image_io.encode_png(photo)}
  if model.kind == models_lib.IMAGE:
    fields["secret"] = image_io.encode_png(rng.integers(0, 256, photo.shape, dtype=np.uint8))
  else:
    fields["text"] = "a short message for the load check"
  body, content_type = _multipart(fields)
  rows, failed = [], 0
  try:
    t = time.perf_counter()
    seq = [_timed_post(url, body, content_type) for _ in range(args.requests)]
    rows.append(_row(f"{args.requests} sequential", [s for s, _ in seq], time.perf_counter() - t,
                     sum(e is not None for _, e in seq)))
    with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
      t = time.perf_counter()
      conc = list(pool.map(lambda _: _timed_post(url, body, content_type), range(args.concurrency)))
      rows.append(_row(f"{args.concurrency} concurrent", [s for s, _ in conc], time.perf_counter() - t,
                       sum(e is not None for _, e in conc)))
    failed = sum(e is not None for _, e in seq + conc)
    for _, e in seq + conc:
      if e:
        print(f"error: {e}", file=sys.stderr)
  finally:
    server.shutdown()
  print(f"{args.size}x{args.size} cover, model {model.name}")
  print("| embeds                 | requests | requests/s |  p50 ms  |  p99 ms  | errors |")
  print("|------------------------|----------|------------|----------|----------|--------|")
  print("\n".join(rows))
  return 1 if failed else 0


if __name__ == "__main__":
  sys.exit(main())
