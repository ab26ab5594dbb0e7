"""Input pipeline: the embedded split, determinism, per-process reading, padded evaluation."""

import numpy as np
import pytest

from configs import deepstego_embedded
from jaxsteg.data import embedded
from jaxsteg.data import pipeline


def _data(arg="tiny"):
  return deepstego_embedded.get_config(arg).data


def test_embedded_split_is_by_source_image():
  assert not set(embedded.TRAIN_IMAGES) & set(embedded.TEST_IMAGES)
  train, test = embedded.load_split("train"), embedded.load_split("test")
  assert len(train) == len(embedded.TRAIN_IMAGES) and len(test) == len(embedded.TEST_IMAGES)
  for img in train + test:
    assert img.ndim == 3 and img.shape[-1] == 3 and img.dtype == np.uint8
  # No training image equals a test image (cheap fingerprint: the mean colour).
  fps = {tuple(np.round(t.reshape(-1, 3).mean(0), 3)) for t in train}
  assert not any(tuple(np.round(t.reshape(-1, 3).mean(0), 3)) in fps for t in test)


def test_grid_crops_cover_the_image():
  img = np.arange(130 * 70 * 3, dtype=np.uint8).reshape(130, 70, 3)
  crops = embedded.grid_crops([img], 32)
  assert crops.shape == (4 * 2, 32, 32, 3)


def test_train_batches_are_deterministic_and_resumable():
  ds = pipeline.make_train_dataset(_data(), num_secrets=2, global_batch=8, seed=3,
                                   process_index=0, process_count=1)
  it = pipeline.make_train_iter(ds)
  b0, b1 = next(it), next(it)
  assert b0["cover"].shape == (8, 16, 16, 3) and b0["cover"].dtype == np.uint8
  assert b0["secret"].shape == (8, 2, 16, 16, 3)
  state = it.get_state()
  b2 = next(it)
  again = pipeline.make_train_iter(ds)
  np.testing.assert_array_equal(next(again)["cover"], b0["cover"])
  resumed = pipeline.make_train_iter(ds, state)
  np.testing.assert_array_equal(next(resumed)["secret"], b2["secret"])
  assert not np.array_equal(b0["cover"], b1["cover"])


def test_processes_read_disjoint_rows_of_the_global_batch():
  kw = dict(num_secrets=1, global_batch=8, seed=0)
  whole = pipeline.make_train_dataset(_data(), process_index=0, process_count=1, **kw)[0]
  parts = [pipeline.make_train_dataset(_data(), process_index=p, process_count=2, **kw)[0] for p in (0, 1)]
  assert parts[0]["cover"].shape[0] == 4
  # Process p computes the p-th block of rows of each global batch, the rows its devices hold: stacking the
  # parts gives the single-process batch, row for row.
  np.testing.assert_array_equal(np.concatenate([parts[0]["cover"], parts[1]["cover"]]), whole["cover"])
  later = [pipeline.make_train_dataset(_data(), process_index=p, process_count=2, **kw)[3] for p in (0, 1)]
  np.testing.assert_array_equal(np.concatenate([later[0]["secret"], later[1]["secret"]]),
                                pipeline.make_train_dataset(_data(), process_index=0, process_count=1, **kw)[3]["secret"])


def test_eval_batches_pad_the_last_batch_with_a_mask():
  es = pipeline.make_eval_set(_data(), num_secrets=1)
  assert es.length == 12
  batches = list(pipeline.eval_batches(es, 8, process_index=0, process_count=1))
  assert len(batches) == 2
  assert batches[0]["mask"].sum() == 8 and batches[1]["mask"].sum() == 4
  assert not batches[1]["cover"][4:].any()
  # Secrets are held-out crops from elsewhere in the set, never the cover itself.
  for b in batches:
    for i in range(int(b["mask"].sum())):
      assert not np.array_equal(b["cover"][i], b["secret"][i, 0])


def test_eval_set_is_fixed():
  a = pipeline.make_eval_set(_data(), num_secrets=1).example(5)
  b = pipeline.make_eval_set(_data(), num_secrets=1).example(5)
  np.testing.assert_array_equal(a["cover"], b["cover"])


def test_batch_must_divide_processes():
  with pytest.raises(ValueError, match="divide"):
    pipeline.make_train_dataset(_data(), num_secrets=1, global_batch=6, seed=0, process_index=0,
                                process_count=4)


def test_channel_gain_augmentation():
  """Off: the identity, drawing no random numbers (streams without it are unchanged). On: per-channel gains
  and offsets within the bounds, clipped to 8 bits; bad settings are refused."""
  img = np.full((4, 4, 3), 128, np.uint8)
  rng = np.random.default_rng(0)
  off = pipeline.augment_fn(_data())
  assert off(img, rng) is img and rng.random() == np.random.default_rng(0).random()
  data = _data()
  data.channel_gain = (2.0, 10.0, 1.0)
  on = pipeline.augment_fn(data)
  outs = np.stack([on(img, np.random.default_rng(s)) for s in range(50)])
  assert outs.dtype == np.uint8 and 128 / 2 - 10 - 1 <= outs.min() and outs.max() <= 255
  assert len(np.unique(outs[:, 0, 0, 0])) > 10   # Gains differ from draw to draw...
  assert np.all(outs == outs[:, :1, :1, :])       # ...and are per channel, the same at every pixel.
  saturated = pipeline.channel_gain(np.full((2, 2, 3), 250, np.uint8), np.random.default_rng(1), 1.5, 40.0)
  assert saturated.max() <= 255
  with pytest.raises(ValueError, match="channel_gain"):
    data.channel_gain = (0.5, 10.0, 1.0)
    pipeline.augment_fn(data)
