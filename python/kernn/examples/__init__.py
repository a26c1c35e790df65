"""The reference workloads (see ``kernn list``), one readable module each with ``main(argv)``.

Run one with ``kernn run NAME`` or ``python -m kernn.examples.MODULE``; each writes
metrics.json, its weights and its pictures to ``--out`` (default ``runs/NAME``).
"""
