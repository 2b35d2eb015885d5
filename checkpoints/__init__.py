"""The shipped weights for the embedded face model: the paper's networks (``shape.pt``,
``expression.pt``) and the learned priors (``prior-shape.pt``, ``prior-expression.pt``).

A package only so that the weights travel inside a wheel as package data and are found with
``importlib.resources`` whether the product runs from a checkout or from a plain ``pip install``.
"""
