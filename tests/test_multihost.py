"""Multi-host on one machine: 2 processes × 4 CPU devices (gloo collectives) train, checkpoint, resume and
evaluate exactly like 1 process × 8 devices; an evaluator on 1 device restores checkpoints written on 8."""

import json
import os
import shutil
import socket
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, "configs", "deepstego_embedded.py") + ":tiny"
LOG_EVERY = "--config.log_every=1"


def _env(devices):
  env = dict(os.environ, PYTHONPATH=ROOT, JAX_PLATFORMS="cpu")
  others = [f for f in env.get("XLA_FLAGS", "").split() if not f.startswith("--xla_force_host_platform_device_count")]
  env["XLA_FLAGS"] = " ".join(others + [f"--xla_force_host_platform_device_count={devices}"])   # conftest's others.
  return env


def _main_cmd(workdir, *flags):
  return [sys.executable, "-m", "jaxsteg.main", "--config", CONFIG, "--workdir", str(workdir), *flags]


def _free_port():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _run_two_processes(workdir, *flags, timeout=300):
  port = _free_port()
  procs = [subprocess.Popen(
      _main_cmd(workdir, "--distributed", f"--coordinator_address=127.0.0.1:{port}", "--num_processes=2",
                f"--process_id={i}", "--config.cpu_devices=4", *flags),
      env=_env(4), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
  outs = []
  for p in procs:
    try:
      out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
      for q in procs:
        q.kill()
      raise
    outs.append((p.returncode, out, err))
  for rc, out, err in outs:
    assert rc == 0, err[-4000:]
  return outs


def _train_losses(workdir):
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    rows = [json.loads(line) for line in f]
  return {r["step"]: r["train/loss"] for r in rows if "train/loss" in r}


def _eval_metrics(workdir, step):
  with open(os.path.join(workdir, "eval", str(step), "metrics.json")) as f:
    return json.load(f)["metrics"]


def test_two_processes_match_one_process_through_a_resume(tmp_path):
  single, multi = tmp_path / "single", tmp_path / "multi"
  proc = subprocess.run(_main_cmd(single, "--config.cpu_devices=8", LOG_EVERY), env=_env(8), capture_output=True,
                        text=True, check=False, timeout=300)
  assert proc.returncode == 0, proc.stderr[-4000:]

  outs = _run_two_processes(multi, "--stop_at_step=2", LOG_EVERY)   # A preemption at step 2 ...
  assert "process 1/2, 8 devices" in outs[1][1] + outs[1][2]
  assert sorted(os.listdir(multi / "checkpoints")) == ["2"]
  assert not (multi / "eval").exists()
  outs = _run_two_processes(multi, LOG_EVERY)                        # ... and the same command resumes.
  assert "Restoring step 2" in outs[0][2] and "Restoring step 2" in outs[1][2]
  assert "workdir:" in outs[0][1] and "workdir:" not in outs[1][1]   # Only process 0 reports.

  ref, got = _train_losses(single), _train_losses(multi)
  assert sorted(got) == sorted(ref) == [1, 2, 3, 4]        # Logged once per step: only process 0 writes.
  # Step 1: same batch, same initial parameters: equal up to the order of the cross-device sums. Later steps
  # add Adam's first updates (≈ sign(g) · lr), which amplify those last-bit differences to ~1e-4; a wrong
  # batch or a missed restore would change the loss by percents.
  np.testing.assert_allclose(got[1], ref[1], rtol=1e-6)
  np.testing.assert_allclose([got[s] for s in (2, 3, 4)], [ref[s] for s in (2, 3, 4)], rtol=1e-3)
  ref_eval, got_eval = _eval_metrics(single, 4), _eval_metrics(multi, 4)
  for k, v in ref_eval.items():
    np.testing.assert_allclose(got_eval[k], v, rtol=1e-3, err_msg=k)
  assert (multi / "eval" / "4" / "grid.png").exists()
  assert len(os.listdir(multi / "tensorboard")) == 2       # One event file per run, from process 0 only.


def test_train_on_8_devices_evaluate_on_1(tiny_run, tmp_path):
  """The evaluator job: `--mode=eval_watch` on one device evaluates each checkpoint written on eight."""
  config, trained, _ = tiny_run
  workdir = tmp_path / "run"
  shutil.copytree(trained, workdir)
  on_8 = _eval_metrics(workdir, config.num_train_steps)
  shutil.rmtree(workdir / "eval")
  proc = subprocess.run(_main_cmd(workdir, "--mode=eval_watch", "--config.cpu_devices=1", "--watch_poll=1",
                                  "--watch_timeout=60"),
                        env=_env(1), capture_output=True, text=True, check=False, timeout=300)
  assert proc.returncode == 0, proc.stderr[-4000:]
  assert "process 0/1, 1 devices" in proc.stderr
  for step in (2, 4):   # Every checkpoint, oldest first, each into eval/<step>/.
    assert (workdir / "eval" / str(step) / "grid.png").exists()
  on_1 = _eval_metrics(workdir, config.num_train_steps)
  for k, v in on_8.items():
    np.testing.assert_allclose(on_1[k], v, rtol=1e-4, err_msg=k)
  with open(workdir / "eval_watch" / "metrics.jsonl") as f:
    assert [json.loads(line)["step"] for line in f] == [2, 4]
