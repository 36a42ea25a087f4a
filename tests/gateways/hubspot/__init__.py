"""Tests of the HubSpot gateway and simulator."""
