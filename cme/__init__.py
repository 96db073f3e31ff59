"""Collaborative Multi-Exponentiation: the share-operations protocol for additive shares.

Not built yet (issue "CME"); it will implement ``prover.shareops.ShareOps``.
"""
