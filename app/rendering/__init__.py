"""Drawing faces without Qt: the mesh whose arrays change in place, the one look (colours, shading,
lighting, framing) shared by the explorer, the rater window and images, the off-screen renderer of
dataset images and gallery thumbnails, and the camera and key light of each image."""
