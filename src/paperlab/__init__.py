"""paperlab: the helper package of Paper Lab, an executable textbook of research results.

Each chapter of the book imports the code it runs from here. Shared pieces live once:

* :mod:`paperlab.data` - seeded synthetic datasets and scikit-learn's bundled datasets;
* :mod:`paperlab.nets` - tiny MLP/CNN builders and the one training loop;
* :mod:`paperlab.plotting` - the house style of every figure;
* :mod:`paperlab.widgets` - :func:`~paperlab.widgets.explore`, the one slider panel;
* :func:`paperlab.show` - displays the real source of a helper on the page.

Topic subpackages (``paperlab.optim``, ``paperlab.generative``, ``paperlab.nn`` ...) hold one
module per paper's algorithm, each with a ``draw`` function and its ``SLIDERS``.
"""
from .show import show

__all__ = ["show"]
__version__ = "0.1.0"
