"""Choosing where the networks run: CUDA when present, the CPU otherwise."""

from __future__ import annotations

import torch

from app.errors import FaceExplorerError


def pick_device(requested: str = "auto") -> torch.device:
    """``auto`` → cuda if available else cpu; an explicit device must exist."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(requested)
    except RuntimeError as failure:
        raise FaceExplorerError(f"unknown device '{requested}' (use auto, cpu or cuda)") from failure
    if device.type == "cuda" and not torch.cuda.is_available():
        raise FaceExplorerError("device 'cuda' requested but no CUDA GPU is available")
    return device


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return "cpu"
