"""What tests and benchmarks share: worlds to run against, workloads, fuzzers, fault scenarios and
the crafted chain. Imported as `tests.support.<module>` (pyproject's pytest `pythonpath = ["."]`;
benchmarks run as `python -m bench.<name>` from the repository root).

- `world`: anvil + deployed marketplace + store + indexer + Flask app, and a CSRF-aware client.
- `browser`: the live stack the browser tests drive.
- `indexing`: a chain to index, stores on SQLite and PostgreSQL, store/contract comparisons.
- `indexer_workload`: IndexerPump contracts that generate marketplace events fast.
- `crafted_chain`: raw marketplace logs of any event, an in-memory chain, a model of the contract.
- `faults`: fault scenarios (node killed, racing bookings, a price change racing bookings).
- `api_schemathesis`: schemathesis against a live app over a seeded market.
- `rpc_gate`: a metering JSON-RPC proxy (how far a client may get, whatever the machine's speed).
- `load`: bounded mixed HTTP load against gunicorn.
- `gas`: gas per marketplace operation and the regression check against the committed baseline.
"""
