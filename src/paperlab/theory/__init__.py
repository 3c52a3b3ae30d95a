"""Part 7, learning theory and generalization: one module per paper, plus :mod:`.common`."""
