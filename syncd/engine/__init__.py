"""The cycle and everything it decides: what to match, write, hold and settle."""
