"""A learned prior over coefficient vectors, per kind, beside the paper's networks.

A score-based diffusion model over the leading PCA-whitened coefficients (``diffusion``,
``network``, ``whitening``), with a Gaussian for the rest given them (``conditional_rest``,
``split_prior``), gives fresh samples, a projection with a strength knob and an exact
log-likelihood (``likelihood``); a net trained on the paper's corruption (``corruption_denoiser``)
gives the denoised estimate. ``LearnedPrior`` applies both to faces in model units.
"""
