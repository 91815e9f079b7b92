"""Benchmarks of lvmkit's core numerical routines against the libraries a reader would use.

Run all rows with ``python -m benchmarks`` (about 15 minutes on two cores); a smoke run
with ``python -m benchmarks --quick``; one row with ``--only NAME``. The full run writes
``benchmarks/results.json``, which the book's performance page reads.
"""
