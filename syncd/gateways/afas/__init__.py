"""AFAS Profit: debtors and creditors through GetConnectors and UpdateConnectors."""
