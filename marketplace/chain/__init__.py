"""The only package that imports web3: connection, bindings, transactions, revert decoding."""
