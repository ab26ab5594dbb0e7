"""Evaluators, found by name: `jaxsteg/evaluators/<name>.py` with `run(config, setup, state, eval_set, outdir)`.

A config lists what runs in `config.evals` (name -> options); `common.from_config` builds them and
`common.run_all` runs them (see `jaxsteg.evaluators.common`). Helpers that are not evaluators (statistics, the
security report's files) live beside them and have no `run`.
"""
