"""The domain of Rete: cases, consent, risk, referrals and who may see what.

No I/O here: aggregates record events; the application decides when to save them.
"""
