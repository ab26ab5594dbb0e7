"""Prepare a registry dataset once, in ArrayRecord format, for `tfds.data_source` to read.

  python -m jaxsteg.data.prepare NAME --data_dir DIR [--manual_dir DIR]

Needs TensorFlow (`pip install -e '.[prepare]'`) and a network (or, for ImageNet, the archives in
--manual_dir). Training only reads the prepared files and needs neither. On a pod: prepare once on any machine
into a bucket (`--data_dir gs://BUCKET/tensorflow_datasets`) and point `TFDS_DATA_DIR` (or
`--config.data.data_dir`) of every worker at it; see README "Scaling out".
"""

from __future__ import annotations

import argparse
import importlib.util
import sys

from jaxsteg.data import datasets

EXIT_USAGE = 2


class PrepareError(Exception):
  """A problem the user can fix; the message says what and how."""


def _check_tensorflow() -> None:
  if importlib.util.find_spec("tensorflow") is None:
    raise PrepareError("preparing TFDS data needs TensorFlow, which is not installed: "
                       "pip install -e '.[prepare]' (tensorflow-cpu). Reading prepared data does not need it.")


def prepare(name: str, data_dir: str, manual_dir: str | None = None) -> str:
  """Downloads and prepares dataset `name` under `data_dir`; returns the builder's data directory."""
  spec = datasets.get_spec(name)
  if spec.tfds_name is None:
    raise PrepareError(f"dataset {name!r} ships with jaxsteg (in memory): nothing to prepare")
  _check_tensorflow()
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  builder = tfds.builder(spec.tfds_name, data_dir=data_dir, file_format="array_record")
  config = tfds.download.DownloadConfig(manual_dir=manual_dir) if manual_dir else None
  try:
    builder.download_and_prepare(download_config=config)
  except (AssertionError, FileNotFoundError) as e:
    if "manual" in str(e).lower():
      raise PrepareError(f"{spec.tfds_name} needs files you download yourself: put them in a folder and pass "
                         f"--manual_dir DIR ({e})") from e
    raise
  except OSError as e:  # DNS failures, refused connections, timeouts: all OSError subclasses.
    raise PrepareError(f"downloading {spec.tfds_name} failed ({type(e).__name__}: {e}); this needs a network. "
                       f"Prepare it on a machine with one and copy {data_dir}.") from e
  return str(builder.data_dir)


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(prog="python -m jaxsteg.data.prepare", description=__doc__.split("\n\n")[0])
  parser.add_argument("name", help=f"dataset: one of {', '.join(sorted(datasets.SPECS))}")
  parser.add_argument("--data_dir", required=True, help="where to write (a local path or gs://...)")
  parser.add_argument("--manual_dir", default=None, help="manually downloaded archives (ImageNet)")
  args = parser.parse_args(argv)
  try:
    where = prepare(args.name, args.data_dir, args.manual_dir)
  except (PrepareError, ValueError) as e:
    print(f"prepare: error: {e}", file=sys.stderr)
    return EXIT_USAGE
  print(f"prepared {args.name} in {where}; train with --config.data.data_dir={args.data_dir} "
        f"(or TFDS_DATA_DIR={args.data_dir})")
  return 0


if __name__ == "__main__":
  sys.exit(main())
