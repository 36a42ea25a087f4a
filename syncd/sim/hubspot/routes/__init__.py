"""The HubSpot simulator's routes: the companies API, its batch endpoints, the control API."""
