"""`jaxsteg serve`: the embed/extract service over HTTP, with a page (`app`: routes; `models`: restored runs).

One process serves one or more workdirs, each restored and compiled once at start; see `jaxsteg.serve.app` for
the API. Out of scope: accounts, storage of containers and messaging between users (a product around the
model would call this API for them).
"""
