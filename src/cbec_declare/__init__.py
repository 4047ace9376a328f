"""cbec-declare."""
