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
import os as _os

from threadpoolctl import threadpool_limits as _threadpool_limits

from .show import show

# The book's linear algebra is small (a few hundred rows): BLAS threads only add
# synchronisation, and on a busy two-core machine a spinning OpenBLAS pool made small products
# up to 20x slower. So paperlab runs numpy/scipy BLAS on one thread (PAPERLAB_BLAS_THREADS
# overrides); see paperlab.threads.one_thread for torch.
_threadpool_limits(limits=int(_os.environ.get("PAPERLAB_BLAS_THREADS", "1")), user_api="blas")

__all__ = ["show"]
__version__ = "0.1.0"
