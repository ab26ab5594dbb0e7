"""Attacks on hiding models: real distortions of containers (`distortions`), classical embedders for
calibration (`embedders`), steganalysis features and detectors (`features`, `structural`, `ensemble`), the
cover/container pairs every detector trains and tests on (`pairs`) and detection metrics (`detection`)."""
