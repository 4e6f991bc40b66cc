"""Use cases of inventory, one module per area: products, stock, counts, imports."""
