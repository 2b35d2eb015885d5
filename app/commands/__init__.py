"""Bodies of the ``python main.py <command>`` tools, one module per group of commands.

Each function takes the parsed ``argparse.Namespace`` and returns an exit status; user-input
problems are raised as FaceExplorerError and reported by main.py.
"""
