"""HubSpot's webhooks: calls that say which records changed, turned into hints."""
