"""HubSpot: companies as the CRM side of customers and suppliers."""
