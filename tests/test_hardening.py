"""Hostile and mistaken inputs for every command: one stderr line, exit 2, no output file; PNGs with the umask's
mode; outputs that are inputs refused; damaged checkpoints named (CLI) or skipped with a warning (training)."""

import os
import stat
import struct
import zlib

import jax
import numpy as np
from PIL import Image
import pytest

from configs import bits_embedded
from jaxsteg import checkpoint
from jaxsteg import cli
from jaxsteg import images as image_io
from jaxsteg import inference
from jaxsteg import sharding
from jaxsteg.tasks import bits as bits_task


def bomb_png(path, side=100_000):
  """A small valid-looking PNG whose header claims side×side pixels (a decompression bomb)."""
  def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
  ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
  path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 4096))
                   + chunk(b"IEND", b""))
  return str(path)


@pytest.fixture()
def inputs(tmp_path):
  img = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
  paths = {}
  for name in ("cover", "secret", "stego", "message", "public", "private", "source", "disguise"):
    paths[name] = str(tmp_path / f"{name}.png")
    Image.fromarray(img).save(paths[name])
  paths["bomb"] = bomb_png(tmp_path / "bomb.png")
  paths["text"] = str(tmp_path / "not_an_image.png")
  (tmp_path / "not_an_image.png").write_text("plain text\n")
  paths["pw"] = str(tmp_path / "pw.txt")
  (tmp_path / "pw.txt").write_text("a passphrase\n")
  return tmp_path, paths


def _argv(command, p, out, workdir):
  """Good arguments of `command` (the workdir is never reached: every case here fails before loading)."""
  return {
      "hide": ["hide", "--workdir", workdir, "--cover", p["cover"], "--secret", p["secret"], "--out", out],
      "reveal": ["reveal", "--workdir", workdir, "--stego", p["stego"], "--out", out],
      "hide-text": ["hide-text", "--workdir", workdir, "--cover", p["cover"], "--text", "hi", "--out", out],
      "reveal-text": ["reveal-text", "--workdir", workdir, "--stego", p["stego"], "--out", out[:-4] + ".txt"],
      "keys": ["keys", "--workdir", workdir, "--public-source", p["source"], "--public-out", out],
      "encrypt": ["encrypt", "--workdir", workdir, "--cover", p["cover"], "--message", p["message"],
                  "--public-key", p["public"], "--out", out],
      "decrypt": ["decrypt", "--workdir", workdir, "--disguise", p["disguise"], "--private-key", p["private"],
                  "--out", out],
  }[command]


FIRST_IMAGE = {"hide": "--cover", "reveal": "--stego", "hide-text": "--cover", "reveal-text": "--stego",
               "keys": "--public-source", "encrypt": "--cover", "decrypt": "--disguise"}
COMMANDS = list(FIRST_IMAGE)
CASES = {"bomb": "claims more pixels", "not_an_image": "not a readable image", "missing": "does not exist",
         "out_is_input": "is the same file as", "out_is_symlink": "is the same file as",
         "out_is_hardlink": "is the same file as", "missing_workdir": "does not exist"}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("command", COMMANDS)
def test_bad_input_table(inputs, capsys, command, case):
  tmp, p = inputs
  out = str(tmp / "out.png")
  argv = _argv(command, p, out, str(tmp / "run_absent"))
  flag = FIRST_IMAGE[command]
  target = argv[argv.index(flag) + 1]
  out_flag = "--out" if "--out" in argv else "--public-out"
  before = open(target, "rb").read()
  if case in ("bomb", "not_an_image", "missing"):
    argv[argv.index(flag) + 1] = {"bomb": p["bomb"], "not_an_image": p["text"], "missing": str(tmp / "no.png")}[case]
  elif case == "out_is_input":
    argv[argv.index(out_flag) + 1] = out = target
  elif case in ("out_is_symlink", "out_is_hardlink"):
    out = str(tmp / ("link.txt" if command == "reveal-text" else "link.png"))
    (os.symlink if case == "out_is_symlink" else os.link)(target, out)
    argv[argv.index(out_flag) + 1] = out
  if command == "reveal-text" and case in ("out_is_input",):
    pass   # --out may be any file name for text; the same file is refused all the same.
  code = cli.main(argv)
  err = capsys.readouterr().err
  assert code == 2, err
  lines = err.strip().splitlines()
  assert [ln for ln in lines if ln.startswith("jaxsteg: error:")] == [lines[-1]] and len(lines) == 1, err
  assert CASES[case] in err, err
  assert "Traceback" not in err
  assert open(target, "rb").read() == before   # The input is untouched ...
  if not case.startswith("out_is"):
    assert not os.path.exists(argv[argv.index(out_flag) + 1])   # ... and nothing was written.


@pytest.mark.parametrize("argv,expected", [
    (["--host", "0.0.0.0"], "not a loopback address"),
    (["--host", "192.0.2.7"], "give --token-file"),
    (["--token-file", "MISSING"], "does not exist"),
    (["--token-file", "SHORT"], "at least 16 characters"),
    (["--port", "70000"], "--port must be between"),
])
def test_serve_bad_input(tmp_path, capsys, argv, expected):
  (tmp_path / "short.txt").write_text("abc\n")
  argv = [a.replace("MISSING", str(tmp_path / "none.txt")).replace("SHORT", str(tmp_path / "short.txt"))
          for a in argv]
  assert cli.main(["serve", "--workdir", str(tmp_path / "run"), *argv]) == 2
  err = capsys.readouterr().err
  assert err.count("\n") == 1 and err.startswith("jaxsteg: error:") and expected in err, err


def test_serve_missing_workdir(tmp_path, capsys):
  assert cli.main(["serve", "--workdir", str(tmp_path / "absent")]) == 2
  assert "does not exist" in capsys.readouterr().err


def test_png_mode_follows_the_umask(tmp_path):
  img = np.zeros((4, 4, 3), np.uint8)
  old = os.umask(0o022)
  try:
    image_io.write_png(str(tmp_path / "a.png"), img)
    os.umask(0o002)
    image_io.write_png(str(tmp_path / "b.png"), img)
  finally:
    os.umask(old)
  assert stat.S_IMODE(os.stat(tmp_path / "a.png").st_mode) == 0o644
  assert stat.S_IMODE(os.stat(tmp_path / "b.png").st_mode) == 0o664


def test_header_pixel_limit_before_decoding(tmp_path):
  """A header over the limit is refused by its size alone (PIL's own bomb limit is far higher)."""
  path = bomb_png(tmp_path / "big.png", side=5000)
  with pytest.raises(image_io.ImageError, match="5000x5000 pixels.*downscale it first"):
    image_io.read_rgb(path, what="cover", max_pixels=4096 * 4096)


@pytest.fixture()
def damaged_run(tmp_path):
  """A bits workdir with checkpoints 1 and 2 whose step 2 has a truncated array file."""
  config = bits_embedded.get_config("tiny")
  state = jax.jit(lambda r: bits_task.init_state(config, r, bits_task.dummy_batch(config, 1)))(jax.random.key(0))
  ckpt = checkpoint.Checkpointer(tmp_path / "run" / "checkpoints", async_save=False)
  ckpt.save(1, state, force=True)
  ckpt.save(2, state, force=True)
  ckpt.close()
  checkpoint.write_config(tmp_path / "run", config.to_json())
  data = tmp_path / "run" / "checkpoints" / "2" / "state" / "ocdbt.process_0" / "d"
  biggest = max(data.iterdir(), key=lambda f: f.stat().st_size)
  with open(biggest, "r+b") as f:
    f.truncate(biggest.stat().st_size // 2)
  return config, str(tmp_path / "run")


def test_damaged_checkpoint_cli_names_the_step(damaged_run, tmp_path, capsys):
  _, workdir = damaged_run
  plain = tmp_path / "plain.png"
  Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(plain)
  argv = ["reveal-text", "--workdir", workdir, "--stego", str(plain)]
  assert cli.main(argv) == 2
  err = capsys.readouterr().err
  assert err.count("\n") == 1 and "step 2" in err and "damaged" in err and "--step 1" in err, err
  assert cli.main(argv + ["--step", "1"]) == 2   # Restores; the plain image then holds no message.
  assert "no message found" in capsys.readouterr().err


def test_damaged_checkpoint_training_falls_back(damaged_run, caplog):
  config, workdir = damaged_run
  config.num_devices = 1
  abstract = jax.eval_shape(lambda r: bits_task.init_state(config, r, bits_task.dummy_batch(config, 1)),
                            jax.random.key(0))
  abstract = checkpoint.abstract_with_sharding(abstract, sharding.replicated(sharding.make_mesh(1)))
  ckpt = checkpoint.Checkpointer(os.path.join(workdir, "checkpoints"), async_save=False)
  try:
    with caplog.at_level("WARNING"):
      state, _ = ckpt.restore(ckpt.latest_step(), abstract, fallback=True)
    assert ckpt.latest_step() == 1 and ckpt.all_steps() == [1]
  finally:
    ckpt.close()
  assert "step 2" in caplog.text and "damaged" in caplog.text
  assert os.path.isdir(os.path.join(workdir, "checkpoints", "2.damaged"))   # Left on disk.
  assert jax.tree.structure(state) == jax.tree.structure(abstract)
  assert inference.load_run(workdir).config.task == "bits"   # The CLI now takes step 1 as the latest.


def test_load_run_reads_the_saved_parameters(damaged_run):
  """The command loads only `params` (and the step) with the checkpoint's own shapes, and the parameters are
  those saved (the training state is only traced, to check config.json against them)."""
  config, workdir = damaged_run
  saved = jax.jit(lambda r: bits_task.init_state(config, r, bits_task.dummy_batch(config, 1)))(jax.random.key(0))
  run = inference.load_run(workdir, 1)
  assert run.step == int(saved["step"])
  assert jax.tree.structure(run.params) == jax.tree.structure(saved["params"])
  jax.tree.map(np.testing.assert_array_equal, run.params, saved["params"])


def test_config_changed_after_training_is_named(damaged_run, tmp_path, capsys):
  """A run resumed with another model (config.json rewritten, the old one kept as config.previous.json) whose
  checkpoints hold the earlier model: one line naming config.previous.json, not a traceback."""
  config, workdir = damaged_run
  changed = config.copy_and_resolve_references()
  changed.model.width = 2 * config.model.width
  checkpoint.write_config(workdir, changed.to_json())
  plain = tmp_path / "plain.png"
  Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(plain)
  assert cli.main(["reveal-text", "--workdir", workdir, "--stego", str(plain), "--step", "1"]) == 2
  err = capsys.readouterr().err
  assert err.count("\n") == 1 and "another model than config.json" in err and "config.previous.json" in err, err
  # Edited by hand (no config.previous.json): still one line, not a traceback from the first network call.
  os.remove(os.path.join(workdir, checkpoint.PREVIOUS_CONFIG))
  assert cli.main(["reveal-text", "--workdir", workdir, "--stego", str(plain), "--step", "1"]) == 2
  err = capsys.readouterr().err
  assert err.count("\n") == 1 and "another model than config.json" in err, err


def _reference_plan(body, num_bits, ber):
  """The parity and inner code search one choice at a time (what `plan.plan` evaluates all at once)."""
  from jaxsteg.payload import plan as plan_lib, spec  # pylint: disable=g-import-not-at-top,multiple-imports
  region, ber = num_bits - spec.HEADER_REGION_BITS, min(max(ber, spec.MIN_PLANNING_BER), 0.5)
  best = None
  for inner in spec.INNER_CODES:
    best_inner = None
    for nsym in spec.NSYM_CHOICES:
      code = plan_lib.rs_length(body, nsym)
      tiles = region // plan_lib.inner_bits(code, inner)
      if tiles < 1:
        break
      lf = plan_lib._log_failure(body, nsym, plan_lib._byte_error(ber, tiles, inner))  # pylint: disable=protected-access
      if best_inner is None or lf <= best_inner[3]:
        best_inner = (nsym, code, tiles, lf, inner)
    if best_inner is not None and (best is None or best_inner[3] < best[3]):
      best = best_inner
  return best


@pytest.mark.parametrize("body,num_bits,ber", [(40, 96 * 96 * 2, 0.01), (780, 96 * 96 * 2, 0.125),
                                               (2600, 640 * 400 * 2, 0.05), (4200, 640 * 400 * 2, 0.2),
                                               (300, 64 * 64, 0.3), (100, 3000, 0.0)])
def test_vectorised_plan_matches_the_search_one_choice_at_a_time(body, num_bits, ber):
  from jaxsteg.payload import plan as plan_lib  # pylint: disable=g-import-not-at-top
  got, want = plan_lib.plan(body, num_bits, ber), _reference_plan(body, num_bits, ber)
  assert (got is None) == (want is None)
  if got is not None:
    assert (got.nsym, got.code_bytes, got.tiles, got.inner) == want[:3] + (want[4],)
    assert got.log_failure == pytest.approx(want[3], rel=1e-9, abs=1e-12)


def test_max_ber_is_the_highest_rate_that_fits():
  from jaxsteg.payload import plan as plan_lib  # pylint: disable=g-import-not-at-top
  limit = np.log(1e-6)
  body, num_bits = plan_lib.body_length(2500, True), 640 * 400 * 2
  ber = plan_lib.max_ber(body, num_bits)
  assert 0.05 < ber < 0.5
  assert plan_lib.plan(body, num_bits, ber).log_failure <= limit
  above = plan_lib.plan(body, num_bits, ber + 1 / plan_lib.BER_GRID)
  assert above is None or above.log_failure > limit or plan_lib.header_log_failure(ber + 1 / 1024) > limit
  assert plan_lib.max_ber(plan_lib.body_length(10**6, True), num_bits) is None
