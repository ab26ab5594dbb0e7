"""The attack suite end to end: the robustness and steganalysis evaluators on :tiny runs of every kind of hider,
and `jaxsteg benchmark` building its whole report folder (json, md, plots, self-contained html)."""

import base64
import json
import os
import re

import ml_collections
import numpy as np
import pytest

from jaxsteg import cli
from jaxsteg.attacks import pairs
from jaxsteg.evaluators import robustness
from jaxsteg.evaluators import steganalysis

QUICK_DISTORTIONS = ("png", "jpeg:90", "noise:2", "crop:0.9")


@pytest.mark.parametrize("name", ["deepstego_embedded", "keymixer_embedded", "bits_embedded", "encryptgan_embedded"])
def test_robustness_of_each_kind_of_hider(trained_tiny, name):
  run = trained_tiny(name)
  src = pairs.source(run.workdir)
  opts = dict(robustness.DEFAULTS, distortions=QUICK_DISTORTIONS, max_images=4, text_bytes=16)
  result = robustness.analyse(src.task, src.config, src.params, src.task.eval_set(src.config), opts, src.key)
  assert list(result["distortions"]) == list(QUICK_DISTORTIONS)
  main = result["main_metric"]
  values = {d: v[main] for d, v in result["distortions"].items()}
  assert all(np.isfinite(v) for v in values.values()), values
  if result["kind"] == "ImageHider":
    assert result["distortions"]["png"]["attacked_psnr"] == 100.0           # PNG: nothing changed.
    assert result["distortions"]["jpeg:90"]["attacked_psnr"] < 100.0
  if result["kind"] == "BitChannel":
    assert result["distortions"]["png"]["text_wrong_text"] == 0.0
    assert 0.0 <= result["distortions"]["jpeg:90"]["bit_accuracy"] <= 1.0
  md = robustness.markdown(result, name)
  assert all(d in md for d in QUICK_DISTORTIONS)


def test_classical_steganalysis_finds_lsb_replacement_and_reports_every_detector():
  opts = dict(steganalysis.DEFAULTS, detectors=("spam+logreg", "spa"), train_pairs=120, curve=(40,))
  result = steganalysis.analyse(pairs.source("lsbr:1.0"), opts)
  assert result["test_pairs"] == 142 and result["train_pairs"] == 120
  for det in ("spam+logreg", "spa"):
    assert result["detectors"][det]["accuracy"] > 0.8, result["detectors"][det]   # Chance is 0.5.
    assert result["detectors"][det]["accuracy_lo"] <= result["detectors"][det]["accuracy"]
    by_photo = result["detectors"][det]["accuracy_by_photo"]
    assert list(by_photo) == ["chelsea", "coffee", "flower"] and all(0.0 <= a <= 1.0 for a in by_photo.values())
  assert set(result["curve"]) == {"40", "120"} and result["best"]["accuracy"] > 0.8
  with pytest.raises(Exception, match="unknown detector"):
    steganalysis.parse("spam+svm")


def _data_uris(page: str) -> list[bytes]:
  return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', page)]


def test_benchmark_builds_the_whole_report(trained_tiny, tmp_path, capsys):
  runs = [trained_tiny(n).workdir for n in ("deepstego_embedded", "bits_embedded")]
  out = tmp_path / "report"
  argv = ["benchmark", "--workdir", runs[0], "--workdir", runs[1], "--baseline", "lsbr:1.0", "--out", str(out),
          "--quick", "--cnn", "xunet", "--detectors", "spam+logreg", "spa", "--cpu-devices", "0"]
  assert cli.main(argv) == 0, capsys.readouterr().err
  names = sorted(os.listdir(out))
  for f in ("report.json", "report.md", "report.html", "roc.png", "detection_vs_pairs.png", "samples.png",
            "robustness_ImageHider.png", "robustness_BitChannel.png", "detectors"):
    assert f in names, names
  report = json.loads((out / "report.json").read_text())
  assert [m["name"] for m in report["models"]] == [os.path.basename(r) for r in runs]
  assert [b["name"] for b in report["baselines"]] == ["lsbr:1"]
  for entry in report["models"] + report["baselines"]:
    assert {"spam+logreg", "spa", "xunet"} <= set(entry["steganalysis"])
    for det in entry["steganalysis"].values():
      assert 0.0 <= det["accuracy"] <= 1.0 and 0.0 <= det["auc"] <= 1.0
  for m in report["models"]:
    assert "jpeg:90" in m["robustness"] and m["quality"]
  assert [bool(m.get("containers")) for m in report["models"]] == [False, True]   # Bits: says they are unrefined.
  md = (out / "report.md").read_text()
  assert "| model |" in md and "lsbr:1" in md and "JPEG 90" in md and "not refined" in md
  # The text a bit model is tested with is named (its config's own robustness block, else the suite's default).
  assert report["models"][1]["robustness_text"] == {"text_bytes": 1024, "plan_for": ""}
  assert "1024-byte encrypted text per cover, planned for the clean container" in md
  page = (out / "report.html").read_text()
  assert "<table>" in page and "src=\"roc.png\"" not in page               # Self-contained: no file links.
  pngs = _data_uris(page)
  assert len(pngs) == len(report["plots"]) and all(p.startswith(b"\x89PNG") for p in pngs)
  assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp")]
  # Never written over: a second run into the same folder is refused, the report stays.
  assert cli.main(argv) == 2 and "exists" in capsys.readouterr().err
  assert json.loads((out / "report.json").read_text()) == report


def test_benchmark_bad_inputs(tmp_path, capsys):
  (tmp_path / "a.png").write_bytes(b"not a workdir")
  (tmp_path / "run").mkdir()
  for argv, message in (
      (["benchmark", "--out", str(tmp_path / "r"), "--baseline", "none"], "at least one"),
      (["benchmark", "--workdir", str(tmp_path / "nope"), "--out", str(tmp_path / "r")], "does not exist"),
      (["benchmark", "--workdir", str(tmp_path / "a.png"), "--out", str(tmp_path / "r")], "is a file"),
      (["benchmark", "--workdir", str(tmp_path / "run"), "--workdir", str(tmp_path / "run") + "/", "--out",
        str(tmp_path / "r")], "same name 'run'"),
      (["benchmark", "--baseline", "lsbm:0.4", "--baseline", "lsbm:0.4", "--out", str(tmp_path / "r")],
       "given twice"),
      (["benchmark", "--baseline", "lsbx:0.4", "--out", str(tmp_path / "r"), "--cnn", "none", "--quick"],
       "neither a workdir nor a classical embedder"),
  ):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "r").exists()


def test_evaluators_listed_in_a_config_run_in_the_loop(tiny_run, tmp_path):
  """robustness and steganalysis as evaluators of a Deep Steganography run (config.evals)."""
  from jaxsteg import evaluate  # pylint: disable=g-import-not-at-top
  import shutil  # pylint: disable=g-import-not-at-top
  config, trained, _ = tiny_run
  workdir = tmp_path / "run"
  shutil.copytree(trained, workdir)
  with config.unlocked():
    config.evals.robustness = ml_collections.ConfigDict(dict(robustness.DEFAULTS, distortions=("png", "jpeg:75"),
                                                              max_images=4))
    config.evals.steganalysis = ml_collections.ConfigDict(dict(steganalysis.DEFAULTS, detectors=("spa",),
                                                                train_pairs=20, curve=()))
  out = evaluate.run_eval(config, str(workdir))
  assert "robust/jpeg:75/secret_psnr" in out and "steg/spa/accuracy" in out
  step_dir = workdir / "eval" / str(config.num_train_steps)
  assert {"robustness.json", "robustness.md", "robustness.png", "steganalysis.json"} <= set(os.listdir(step_dir))
