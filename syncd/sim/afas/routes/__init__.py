"""The simulated Profit's routes: connectors, metainfo, and the control API."""
