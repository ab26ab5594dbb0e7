"""`jaxsteg benchmark`: the attack suite over many models into one report (`suite`), its files (`report`, `plots`)."""
