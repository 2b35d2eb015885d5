"""How a face looks wherever it is drawn: the explorer, the rater window and dataset images.

One set of colours, shading, lighting and framing, so that images made for training show faces
as a person sees them in the GUI. Model coordinates are y up, with the face looking along +z.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import pyvista

from app.model.face_parts import FacePart, vertex_parts
from app.rendering.face_mesh import FaceMesh
from app.rendering.mouth_cavity import mouth_light

SKIN = (0.87, 0.72, 0.62)
PART_COLOURS = {
    FacePart.SKIN: SKIN,
    FacePart.MOUTH_INTERIOR: (0.42, 0.17, 0.17),
    FacePart.GUMS_AND_TONGUE: (0.80, 0.42, 0.44),
    FacePart.TEETH: (0.93, 0.90, 0.82),
    FacePart.EYE_WHITE: (0.93, 0.93, 0.90),
    FacePart.IRIS: (0.33, 0.21, 0.12),
    FacePart.PUPIL: (0.04, 0.04, 0.04),
}
PART_COLOUR_ARRAY = "part colours"
BACKGROUND = (0.16, 0.17, 0.19)
SPECULAR = 0.15
LIGHTING: Final = "light kit"  # pyvista's key, fill, back and head lights
HEAT_MAP_COLOURS: Final = "YlOrRd"  # light at zero: readable on the dark background
LANDMARK_COLOUR = (0.2, 0.85, 0.95)  # cyan: apart from skin, lips and the heat map's yellows and reds
FRAME_MARGIN = 1.3  # a fixed frame is a reference face's box grown by this factor about its centre


def add_face(
    plotter: pyvista.BasePlotter, mesh: FaceMesh, triangle_parts: np.ndarray, scalars: str | None = None
) -> pyvista.Actor:
    """Draw ``mesh`` smoothly shaded, each part (skin, eyes, teeth …) in its colour, or by its point array ``scalars``.

    The colours are per vertex: the parts are separate meshes that share no vertices, except
    where the iris meets the white of the eye, whose colours then blend over one triangle. Inside
    the mouth they darken with the distance from the lips (``mouth_light``, measured on the face
    the mesh shows now), so an open mouth is a dark cavity with light front teeth.
    """
    palette = np.array([PART_COLOURS[part] for part in FacePart], dtype=np.float32)
    colours = palette[vertex_parts(mesh.triangles, triangle_parts, len(mesh.vertices))]
    colours *= mouth_light(mesh.vertices, mesh.triangles, triangle_parts)[:, None]
    mesh.polydata.point_data[PART_COLOUR_ARRAY] = colours
    actor = plotter.add_mesh(
        mesh.polydata,
        scalars=PART_COLOUR_ARRAY,
        rgb=True,
        cmap=HEAT_MAP_COLOURS,
        show_scalar_bar=False,
        smooth_shading=False,  # the mesh's own normals; pyvista's would be recomputed in every render
        interpolation="gouraud",
        specular=SPECULAR,
        reset_camera=False,
    )
    # pyvista feeds the mapper through a Python filter that makes the coloured array the active one
    # on a copy of the mesh, re-run whenever the mesh changes: at every frame of a moving face. The
    # mapper reads the mesh itself instead and picks the array by name (colour_by).
    actor.mapper.SetInputData(mesh.polydata)
    colour_by(actor, scalars)
    return actor


def colour_by(actor: pyvista.Actor, scalars: str | None, rgb: bool = False) -> None:
    """Colour a face drawn by ``add_face`` by its point array ``scalars`` (a heat map), or by its parts when None.

    With ``rgb`` the array holds colours (N, 3) in [0, 1], drawn as they are.
    """
    mapper = actor.mapper
    # VTK's own calls: pyvista's mapper.array_name would put its copying filter back in front of the mapper.
    mapper.SetScalarModeToUsePointFieldData()
    mapper.SelectColorArray(scalars or PART_COLOUR_ARRAY)
    if scalars and not rgb:
        mapper.SetColorModeToMapScalars()
    else:
        mapper.SetColorModeToDirectScalars()


def framing_bounds(vertices: np.ndarray, margin: float = FRAME_MARGIN) -> np.ndarray:
    """(3, 2) box of ``vertices`` (N, 3) grown by ``margin`` about its centre: a frame all faces share."""
    vertices = np.asarray(vertices, dtype=np.float64)
    bounds = np.stack([vertices.min(axis=0), vertices.max(axis=0)], axis=1)
    centre = bounds.mean(axis=1, keepdims=True)
    return centre + margin * (bounds - centre)


def look_at_bounds(renderer: pyvista.Renderer, bounds: np.ndarray, yaw_degrees: float = 0.0) -> None:
    """Look at the centre of ``bounds`` (3, 2), y up, framing the whole box.

    The camera circles the vertical axis: yaw 0 is the front, 90 the face's left side.
    """
    bounds = np.asarray(bounds, dtype=float)
    centre = bounds.mean(axis=1)
    yaw = math.radians(yaw_degrees)
    direction = np.array([math.sin(yaw), 0.0, math.cos(yaw)])
    renderer.camera_position = [tuple(centre + direction), tuple(centre), (0.0, 1.0, 0.0)]
    renderer.ResetCamera(*bounds.ravel())
