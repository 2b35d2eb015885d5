"""The heat map's legend (a colour bar and its title) in a strip of its own at the right of a render window.

In a viewport of its own the legend can never cover a face, however the camera is turned or zoomed,
and its title sits above the bar's frame instead of VTK's title slot, which overlapped the top label.
While the legend is hidden the faces' viewports take the whole width again.
"""

from __future__ import annotations

from collections.abc import Sequence

from vtkmodules.vtkCommonCore import vtkScalarsToColors
from vtkmodules.vtkRenderingAnnotation import vtkScalarBarActor
from vtkmodules.vtkRenderingCore import vtkRenderer, vtkRenderWindow, vtkTextActor

LEGEND_WIDTH_PX = 80  # room for a two-line title, a bar and labels such as "37.0"
LABEL_FONT_PX = 11
# The top label is centred on the bar's top end, so it reaches half a line above the frame: the
# title's last line starts this far above the frame.
TITLE_GAP_PX = LABEL_FONT_PX // 2 + 8
BAR_BOTTOM, BAR_TOP = 0.08, 0.72  # the bar's frame, as fractions of the strip's height
LABEL_COUNT = 5


class HeatMapLegend:
    """A colour bar titled ``title`` in its own renderer, which ``layout`` places beside the faces' viewports."""

    def __init__(self, render_window: vtkRenderWindow, title: str, background: tuple[float, float, float]) -> None:
        self.renderer = vtkRenderer()
        self.renderer.SetBackground(*background)
        self.renderer.InteractiveOff()  # the mouse turns the faces' camera, never the legend's
        self.renderer.DrawOff()
        render_window.AddRenderer(self.renderer)
        self.bar = vtkScalarBarActor()
        self.bar.SetOrientationToVertical()
        self.bar.SetNumberOfLabels(LABEL_COUNT)
        self.bar.SetLabelFormat("%.1f")
        self.bar.SetBarRatio(0.3)
        self.bar.UnconstrainedFontSizeOn()  # the font sizes below, whatever the strip's size
        labels = self.bar.GetLabelTextProperty()
        labels.SetFontSize(LABEL_FONT_PX)
        labels.SetColor(1.0, 1.0, 1.0)
        labels.ShadowOff()
        labels.ItalicOff()
        labels.BoldOff()
        self.bar.SetTitle("")  # the title is the text actor below, above the frame
        frame = self.bar.GetPositionCoordinate()
        frame.SetCoordinateSystemToNormalizedViewport()
        frame.SetValue(0.05, BAR_BOTTOM)
        self.bar.GetPosition2Coordinate().SetValue(0.9, BAR_TOP - BAR_BOTTOM)  # width, height: relative to Position
        self.title = vtkTextActor()
        self.title.SetInput(title)
        text = self.title.GetTextProperty()
        text.SetFontSize(12)
        text.SetColor(1.0, 1.0, 1.0)
        text.SetJustificationToCentered()
        text.SetVerticalJustificationToBottom()
        self.title.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()  # placed by layout()
        self.renderer.AddViewProp(self.bar)
        self.renderer.AddViewProp(self.title)
        self.visible = False

    def show_colours(self, lookup_table: vtkScalarsToColors) -> None:
        """Explain the colours of ``lookup_table`` (the heat-mapped face's mapper's)."""
        self.bar.SetLookupTable(lookup_table)

    def set_visible(self, visible: bool) -> None:
        self.visible = bool(visible)
        self.renderer.SetDraw(self.visible)

    def layout(self, render_window: vtkRenderWindow, face_renderers: Sequence[vtkRenderer]) -> None:
        """Share the window's width: the legend's strip at the right (while shown), equal viewports for the faces."""
        width = max(render_window.GetSize()[0], 1)
        strip = min(LEGEND_WIDTH_PX / width, 0.5) if self.visible else 0.0
        share = (1.0 - strip) / len(face_renderers)
        for column, renderer in enumerate(face_renderers):
            _set_viewport(renderer, (column * share, 0.0, (column + 1) * share, 1.0))
        _set_viewport(self.renderer, (1.0 - strip, 0.0, 1.0, 1.0))
        # The title's bottom line, TITLE_GAP_PX above the frame whatever the window's height.
        height = max(render_window.GetSize()[1], 1)
        self.title.GetPositionCoordinate().SetValue(0.5, BAR_TOP + TITLE_GAP_PX / height)

    def title_rect(self) -> tuple[float, float, float, float]:
        """The title's (x0, y0, x1, y1) in display pixels, as last laid out."""
        box = [0.0, 0.0, 0.0, 0.0]
        self.title.GetBoundingBox(self.renderer, box)  # about the text's anchor
        x, y = self.title.GetPositionCoordinate().GetComputedDisplayValue(self.renderer)
        return x + box[0], y + box[2], x + box[1], y + box[3]

    def bar_rect(self) -> tuple[float, float, float, float]:
        """The frame holding the bar and its labels, (x0, y0, x1, y1) in display pixels."""
        x0, y0 = self.bar.GetPositionCoordinate().GetComputedDisplayValue(self.renderer)
        x1, y1 = self.bar.GetPosition2Coordinate().GetComputedDisplayValue(self.renderer)
        return float(x0), float(y0), float(x1), float(y1)


def _set_viewport(renderer: vtkRenderer, viewport: tuple[float, float, float, float]) -> None:
    if tuple(renderer.GetViewport()) != viewport:  # an unchanged viewport must not mark the renderer modified
        renderer.SetViewport(*viewport)
