"""The denoising autoencoders: the network, the corruption protocol, training, checkpoints,
and the ``Denoiser`` that applies both trained networks on the chosen device."""
