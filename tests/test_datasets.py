"""The dataset registry: every dataset's pipeline under TFDS mock data (no TensorFlow), per-process splits on a
real ArrayRecord fixture, and the crop / augmentation modes."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from configs import deepstego_embedded
from jaxsteg.data import datasets
from jaxsteg.data import pipeline

TFDS_NAMES = sorted(n for n, s in datasets.SPECS.items() if s.tfds_name is not None)


def _data(cover, secret, **overrides):
  data = deepstego_embedded.get_config("tiny").data
  data.cover, data.secret = cover, secret
  for k, v in overrides.items():
    data[k] = v
  return data


def _mock(n=12):
  return tfds.testing.mock_data(num_examples=n, policy=tfds.testing.MockPolicy.USE_CODE)


def test_registry_names():
  assert {"embedded", "stl10", "celeb_a", "oxford_flowers102", "svhn_cropped", "fashion_mnist",
          "cats_vs_dogs", "imagenet2012"} <= set(datasets.SPECS)
  with pytest.raises(ValueError, match="unknown dataset 'stl_10'; known: "):
    datasets.get_spec("stl_10")


@pytest.mark.parametrize("name", TFDS_NAMES)
@pytest.mark.parametrize("channels", [3, 1])
def test_every_dataset_trains_and_evaluates_under_mock_data(name, channels):
  """Train batches and the padded eval set, cover from `name` and secret from another dataset."""
  other = "svhn_cropped" if name != "svhn_cropped" else "celeb_a"
  data = _data(name, other, channels=channels, image_size=24, eval_size=20, rotate_degrees=10.0)
  with _mock():
    ds = pipeline.make_train_dataset(data, num_secrets=2, global_batch=4, seed=0, process_index=0,
                                     process_count=1)
    b = ds[0]
    assert b["cover"].shape == (4, 24, 24, channels) and b["cover"].dtype == np.uint8
    assert b["secret"].shape == (4, 2, 24, 24, channels)
    np.testing.assert_array_equal(ds[0]["cover"], b["cover"])   # Deterministic in (seed, index).
    assert not np.array_equal(ds[1]["cover"], b["cover"])
    es = pipeline.make_eval_set(data, num_secrets=1)
    assert es.length == 12
    eb = next(pipeline.eval_batches(es, 8, process_index=0, process_count=1))
    assert eb["cover"].shape == (8, 20, 20, channels) and eb["secret"].shape == (8, 1, 20, 20, channels)


def test_cover_and_secret_streams_are_independent_pairings():
  data = _data("embedded", "embedded")
  ds = pipeline.make_train_dataset(data, num_secrets=1, global_batch=16, seed=0, process_index=0,
                                   process_count=1)
  b = ds[0]
  assert not any(np.array_equal(b["cover"][i], b["secret"][i, 0]) for i in range(16))


class JaxstegFixture(tfds.core.GeneratorBasedBuilder):
  """A real ArrayRecord dataset built without TensorFlow: record i is an 8×8 image filled with i."""
  VERSION = tfds.core.Version("1.0.0")

  def _info(self):
    return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
        "image": tfds.features.Tensor(shape=(8, 8, 3), dtype=np.uint8)}))

  def _split_generators(self, dl_manager):
    del dl_manager
    return {"train": self._generate_examples(0, 10), "extra": self._generate_examples(100, 7),
            "test": self._generate_examples(200, 4)}

  def _generate_examples(self, start, n):
    for i in range(start, start + n):
      yield str(i), {"image": np.full((8, 8, 3), i, np.uint8)}


@pytest.fixture(name="fixture_spec")
def _fixture_spec(tmp_path, monkeypatch):
  JaxstegFixture(data_dir=str(tmp_path), file_format="array_record").download_and_prepare()
  monkeypatch.setitem(datasets.SPECS, "fixture", datasets.DatasetSpec("jaxsteg_fixture", "train+extra", "test"))
  return str(tmp_path)


def _ids(source):
  return sorted(int(source[i][0, 0, 0]) for i in range(len(source)))


def test_processes_read_disjoint_shares_of_a_tfds_split(fixture_spec):
  whole = _ids(datasets.get_source("fixture", "train", fixture_spec))
  assert whole == list(range(10)) + list(range(100, 107))
  shares = [_ids(datasets.get_source("fixture", "train", fixture_spec, process_index=p, process_count=3))
            for p in range(3)]
  assert sorted(sum(shares, [])) == whole
  assert max(map(len, shares)) - min(map(len, shares)) <= 2   # Each part of "train+extra" split evenly.
  # Evaluation reads the whole held-out split on every process (eval_batches then picks the rows).
  assert _ids(datasets.get_source("fixture", "eval", fixture_spec)) == [200, 201, 202, 203]


def test_train_pipeline_samples_only_this_process_share(fixture_spec):
  data = _data("fixture", "fixture", data_dir=fixture_spec, image_size=8, flip=False)
  seen = set()
  ds = pipeline.make_train_dataset(data, num_secrets=1, global_batch=16, seed=0, process_index=1,
                                   process_count=2)
  for i in range(4):
    seen |= set(ds[i]["cover"][:, 0, 0, 0].tolist())
  share = set(_ids(datasets.get_source("fixture", "train", fixture_spec, process_index=1, process_count=2)))
  assert seen <= share and len(seen) > len(share) // 2
  data.split_per_process = False   # Every process samples from the whole split.
  ds = pipeline.make_train_dataset(data, num_secrets=1, global_batch=16, seed=0, process_index=1,
                                   process_count=2)
  seen = set().union(*(set(ds[i]["cover"][:, 0, 0, 0].tolist()) for i in range(4)))
  assert not seen <= share


def test_missing_dataset_says_how_to_prepare_it(tmp_path):
  with pytest.raises(FileNotFoundError, match="jaxsteg.data.prepare svhn_cropped --data_dir"):
    datasets.get_source("svhn_cropped", "train", str(tmp_path))


def _ramp(h, w):
  y, x = np.mgrid[:h, :w]
  return np.stack([y * 3 % 256, x * 5 % 256, (x + y) % 256], -1).astype(np.uint8)


def test_crop_modes():
  spec = datasets.DatasetSpec("x", "train", "test")
  img = _ramp(60, 100)
  rng = np.random.default_rng(0)
  box = datasets.make_preprocess(spec, 32, 3, False, False, crop="letterbox")(img, rng)
  assert box.shape == (32, 32, 3)
  assert not box[:6].any() and not box[-6:].any() and box[16].any()   # 100:60 fitted into 32: bars of 6-7.
  cyc = datasets.make_preprocess(spec, 24, 3, True, False, crop="resize_crop", load_size=30)
  outs = [cyc(img, np.random.default_rng(s)) for s in range(4)]
  assert all(o.shape == (24, 24, 3) for o in outs)
  assert len({o.tobytes() for o in outs}) > 1   # Random crop position in training.
  central = datasets.make_preprocess(spec, 24, 3, False, False, crop="resize_crop", load_size=30)
  np.testing.assert_array_equal(central(img, None), central(img, None))
  rand = datasets.make_preprocess(spec, 16, 3, False, False, crop="random")(img, None)
  np.testing.assert_array_equal(rand, img[22:38, 42:58])
  grey = datasets.make_preprocess(spec, 16, 1, False, False)(img, None)
  assert grey.shape == (16, 16, 1)
  with pytest.raises(ValueError, match="load_size"):
    datasets.make_preprocess(spec, 24, 3, True, False, crop="resize_crop", load_size=0)
  with pytest.raises(ValueError, match="unknown crop"):
    datasets.make_preprocess(spec, 24, 3, True, False, crop="zoom")


def test_rotation_augmentation():
  img = _ramp(32, 32)
  np.testing.assert_array_equal(datasets.rotate(img, 0.0), img)
  r = datasets.rotate(img, 10.0)
  assert r.shape == img.shape and r.dtype == np.uint8 and not np.array_equal(r, img)
  assert r[0, 0].any()   # Reflected border, not black corners.
  spec = datasets.DatasetSpec("x", "train", "test")
  aug = datasets.make_preprocess(spec, 32, 3, True, False, rotate_degrees=10.0)
  ev = datasets.make_preprocess(spec, 32, 3, False, False, rotate_degrees=10.0)
  assert sum(not np.array_equal(aug(img, np.random.default_rng(s)), img) for s in range(4)) >= 3
  np.testing.assert_array_equal(ev(img, None), img)   # No augmentation in evaluation.


def test_prepare_says_what_is_missing(tmp_path, monkeypatch, capsys):
  from jaxsteg.data import prepare  # pylint: disable=g-import-not-at-top
  real = prepare.importlib.util.find_spec
  monkeypatch.setattr(prepare.importlib.util, "find_spec",
                      lambda n, *a: None if n == "tensorflow" else real(n, *a))
  assert prepare.main(["stl10", "--data_dir", str(tmp_path)]) == 2
  assert "needs TensorFlow" in capsys.readouterr().err
  assert prepare.main(["stl_10", "--data_dir", str(tmp_path)]) == 2
  assert "unknown dataset 'stl_10'" in capsys.readouterr().err
  assert prepare.main(["embedded", "--data_dir", str(tmp_path)]) == 2
  assert "nothing to prepare" in capsys.readouterr().err
  assert not list(tmp_path.iterdir())
