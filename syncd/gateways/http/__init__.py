"""HTTP plumbing both gateways share: bodies, limits, paging ahead, TLS, who is calling."""
