"""Wall time of `jaxsteg hide-text` (4 KiB of English-like text into a 640×400 photograph) and `jaxsteg hide`
(one 640×400 image), each run twice as separate processes (the second finds the compilation cache), for this
tree and, with --before-root, for another tree of jaxsteg (e.g. `git archive <commit> | tar -x -C DIR`).

  python benchmarks/cli_latency.py --bits-workdir runs/bits_embedded --image-workdir runs/deepstego_embedded \\
      [--before-root DIR] [--repeats 2]

Every hide-text container is read back with reveal-text and compared with the text. Prints a table with the
wall and CPU seconds (user + sys) of each call and the machine's 1-minute load average after it: on a shared
machine the CPU seconds are the number to compare.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORDS = ("the of and to in is was for on that with as by at from his her an are were which this be or had has not "
         "but have one they their its all been who more when will would there also into after can other some first "
         "than only over new most made time two years may such these about like any could river light stone "
         "garden morning letter window winter").split()


def english_like(num_bytes: int, seed: int = 0) -> str:
  rng = random.Random(seed)
  words = []
  while len(" ".join(words).encode()) < num_bytes:
    w = rng.choice(WORDS)
    words.append(w.capitalize() + "." if rng.random() < 0.08 else w)
  return " ".join(words).encode()[:num_bytes].decode("ascii")


def _run(root: str, argv: list[str], env: dict) -> tuple[tuple[float, float], subprocess.CompletedProcess]:
  """((wall seconds, CPU seconds of the process), result): CPU time stays meaningful on a shared machine."""
  start, cpu = time.perf_counter(), _children_cpu()
  proc = subprocess.run([sys.executable, "-m", "jaxsteg.cli", *argv], cwd=root, env=env, capture_output=True,
                        text=True, check=False)
  return (time.perf_counter() - start, _children_cpu() - cpu), proc


def _children_cpu() -> float:
  usage = resource.getrusage(resource.RUSAGE_CHILDREN)
  return usage.ru_utime + usage.ru_stime


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--bits-workdir", required=True)
  p.add_argument("--image-workdir", required=True)
  p.add_argument("--before-root", help="another jaxsteg tree to time the same commands with")
  p.add_argument("--repeats", type=int, default=2)
  p.add_argument("--before-repeats", type=int, default=None,
                 help="calls of the --before-root tree (default: --repeats)")
  args = p.parse_args(argv)
  from PIL import Image  # pylint: disable=g-import-not-at-top
  from skimage import data  # pylint: disable=g-import-not-at-top
  tmp = tempfile.mkdtemp(prefix="jaxsteg-latency-")
  cover, secret = os.path.join(tmp, "cover.png"), os.path.join(tmp, "secret.png")
  Image.fromarray(data.astronaut()).resize((640, 400), Image.Resampling.LANCZOS).save(cover)
  Image.fromarray(data.chelsea()).resize((640, 400), Image.Resampling.LANCZOS).save(secret)
  message = os.path.join(tmp, "message.txt")
  text = english_like(4096)
  with open(message, "w", encoding="ascii") as f:
    f.write(text)
  trees = [("this tree", ROOT, args.repeats)] + ([("before", os.path.abspath(args.before_root),
                                                   args.before_repeats or args.repeats)] if args.before_root else [])
  rows, load = [], os.getloadavg()[0]
  for label, root, repeats in trees:
    env = dict(os.environ, PYTHONPATH=root, JAXSTEG_CACHE=os.path.join(tmp, f"cache-{len(rows)}"))
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    for i in range(repeats):
      stego = os.path.join(tmp, f"stego-{label[0]}{i}.png")
      seconds, proc = _run(root, ["hide-text", "--workdir", args.bits_workdir, "--cover", cover, "--text-file",
                                  message, "--out", stego], env)
      exact = "no (" + proc.stderr.strip().splitlines()[-1][:80] + ")" if proc.returncode else ""
      if not proc.returncode:
        back = _run(root, ["reveal-text", "--workdir", args.bits_workdir, "--stego", stego], env)[1]
        exact = "yes" if back.returncode == 0 and back.stdout == text + "\n" else "NO"
      rows.append((label, f"hide-text 4 KiB, 640x400, call {i + 1}", seconds, exact, os.getloadavg()[0]))
      seconds, proc = _run(root, ["hide", "--workdir", args.image_workdir, "--cover", cover, "--secret", secret,
                                  "--out", os.path.join(tmp, f"container-{label[0]}{i}.png")], env)
      rows.append((label, f"hide 640x400, call {i + 1}", seconds, "ok" if proc.returncode == 0 else "failed",
                   os.getloadavg()[0]))
      print(rows[-2], rows[-1], flush=True)
  print(f"load average at the start: {load:.1f}, at the end: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
  print("| code      | command                              | wall s | CPU s | text exact | load |")
  print("|-----------|--------------------------------------|--------|-------|------------|------|")
  for label, what, (wall, cpu), exact, after in rows:
    print(f"| {label:<9} | {what:<36} | {wall:>6.1f} | {cpu:>5.1f} | {exact:<10} | {after:>4.1f} |", flush=True)
  return 0


if __name__ == "__main__":
  sys.exit(main())
