"""Drawing faces with VTK, without Qt: the mesh whose arrays change in place, and the one look
(colours, shading, lighting, framing) shared by the explorer, the rater window and dataset images."""
