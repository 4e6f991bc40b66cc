"""The inventory REST API, one module per resource."""
