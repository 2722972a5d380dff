"""Benchmarks of Rete: ``python -m bench`` (quick) and ``python -m bench --full``.

See docs/PERFORMANCE.md for what is measured and what the figures mean.
"""
