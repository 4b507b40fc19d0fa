"""The member portal at /portal/: a contact sees their organization as the secretariat knows it."""
