"""Generative models and diffusion: one module per paper (part 5 of the book)."""
