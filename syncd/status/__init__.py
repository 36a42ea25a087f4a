"""What syncd tells its operator: status events, and later the log and HTTP surface."""
