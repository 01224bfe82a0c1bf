"""websession benchmarks against its peers, side by side in one run (``make bench``).

``python -m bench`` drives every app in-process (ASGI called directly, WSGI through its
environ interface), counts store operations from the servers, runs a short end-to-end
load under uvicorn, profiles the hot paths and writes a markdown report to
``bench/results/``. Servers come from ``scripts/servers.py``, as for ``make test``.
"""
