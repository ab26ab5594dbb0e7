"""Input: dataset specs, the offline embedded default, grain pipelines, payload codecs."""
