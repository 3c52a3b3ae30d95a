"""Optimization: one module per paper (part 1 of the book)."""
