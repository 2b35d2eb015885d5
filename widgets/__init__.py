"""Qt widgets of the explorer: thin views that turn user actions into calls on ``app/``."""
