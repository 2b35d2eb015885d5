"""Face Manifold Explorer core: morphable models, denoising autoencoders, datasets.

Nothing in this package imports Qt; the GUI in ``widgets/`` is a thin layer on top.
"""

__version__ = "0.1.0"
