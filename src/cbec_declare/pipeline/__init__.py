"""The declaration pipeline: state machine, ledger, worker."""
