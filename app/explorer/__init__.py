"""The explorer's Qt-free core: the current face and its change events, the live face
(synthesis + denoising on every change) and face presets."""
