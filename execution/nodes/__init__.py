"""The built-in nodes, one module per namespace (`image.py` holds `image.*`)."""
