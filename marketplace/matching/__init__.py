"""Pure matching: eligibility (the contract's rule, restated once), scoring, ranking.

No web3, no Flask.
"""
