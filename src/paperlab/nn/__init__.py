"""Inside neural networks: one module per paper (part 8 of the book)."""
