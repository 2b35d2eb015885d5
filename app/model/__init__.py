"""The face model: a 3DMM (mean + identity and expression bases), the files it is read from,
the embedded default model and its corpus of clean coefficients, sampling and vertex normals."""
