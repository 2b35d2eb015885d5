"""The shipped network weights (``shape.pt``, ``expression.pt``) for the embedded face model.

A package only so that the weights travel inside a wheel as package data and are found with
``importlib.resources`` whether the product runs from a checkout or from a plain ``pip install``.
"""
