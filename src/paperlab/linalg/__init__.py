"""Numerical linear algebra and sketching: one module per paper (part 2 of the book), and the
randomized solvers other parts call (:mod:`paperlab.linalg.kaczmarz`)."""
