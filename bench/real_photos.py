"""Real photographs reachable offline, with reference masks drawn by hand, for the matte bench.

Photos: scikit-image's bundled data (installed with the dev extra) and the samples of the Debian
package ``opencv-doc`` (``apt-get download opencv-doc && dpkg-deb -x opencv-doc_*.deb DIR``;
pass ``DIR/usr/share/doc/opencv-doc/examples``). Neither is committed here.

How the references were drawn: each photo was viewed with a 25-pixel grid over it and the
product's outline written down as polygons and ellipses in the photo's own pixel coordinates
(no segmentation tool, no model, no GrabCut). They follow outlines to within a few pixels and
ignore fine detail (fur, spokes, antennae, a pencil's shadow), so an IoU near 0.95 is about as
close as any method can get to them; the boundary F-score is scored at a tolerance of 1 % of
the photo's diagonal for the same reason. ``plant`` uses opencv's own trimap instead (its
unknown band is left out of both scores). What counts as the product: everything a shopper
would expect cut out (the cup with its saucer and spoon; the person with the helmet they hold;
all objects on a plain table), never the table, the branch or the launch towers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw

Shape = tuple[
    str, tuple[float, ...]
]  # ("poly", x0, y0, x1, y1, ...) or ("ellipse", cx, cy, rx, ry)


def _poly(*xy: float) -> Shape:
    return ("poly", xy)


def _ellipse(cx: float, cy: float, rx: float, ry: float | None = None) -> Shape:
    return ("ellipse", (cx, cy, rx, rx if ry is None else ry))


# (source, file, shapes). source: "skimage" (skimage/data) or "opencv" (the examples folder).
PHOTOS: dict[str, tuple[str, str, list[Shape]]] = {
    "coffee": ("skimage", "coffee.png", [
        _ellipse(282, 243, 197, 148), _ellipse(290, 115, 118, 98),
        _poly(400, 70, 422, 72, 395, 200, 380, 200),
    ]),
    "chelsea": ("skimage", "chelsea.png", [
        _poly(0, 0, 345, 0, 385, 40, 395, 100, 385, 170, 360, 230, 330, 270, 310, 300, 0, 300),
    ]),
    "astronaut": ("skimage", "astronaut.png", [
        _poly(215, 15, 250, 12, 285, 25, 300, 60, 298, 110, 290, 150, 300, 170, 305, 210,
              300, 250, 330, 270, 355, 290, 362, 340, 400, 345, 450, 360, 485, 390, 500, 430,
              505, 480, 505, 512, 20, 512, 25, 420, 30, 330, 45, 290, 75, 250, 110, 225,
              115, 185, 125, 165, 160, 150, 170, 120, 165, 80, 175, 40, 195, 20),
    ]),
    "rocket": ("skimage", "rocket.jpg", [
        _poly(318, 128, 326, 135, 330, 150, 333, 200, 333, 405, 306, 405, 307, 200, 308, 150,
              311, 135),
    ]),
    "motorcycle": ("skimage", "motorcycle_left.png", [
        _ellipse(200, 320, 78, 80), _ellipse(596, 369, 88, 79),
        _poly(95, 205, 110, 195, 150, 185, 150, 160, 170, 150, 230, 160, 300, 185, 345, 190,
              370, 170, 400, 160, 460, 165, 490, 160, 500, 130, 480, 120, 500, 110, 520, 120,
              545, 125, 575, 130, 580, 140, 560, 150, 555, 185, 540, 200, 520, 210, 535, 260,
              560, 270, 600, 275, 630, 290, 640, 320, 600, 330, 560, 345, 520, 360, 470, 360,
              440, 375, 400, 380, 350, 385, 345, 410, 330, 430, 320, 400, 300, 370, 270, 360,
              220, 300, 160, 240, 110, 240, 95, 230),
    ]),
    "camera": ("skimage", "camera.png", [
        _poly(175, 75, 210, 65, 245, 80, 265, 110, 262, 140, 310, 140, 325, 145, 322, 165,
              330, 185, 325, 225, 300, 235, 270, 245, 260, 265, 265, 290, 240, 300, 190, 310,
              185, 330, 160, 345, 150, 380, 148, 420, 150, 512, 28, 512, 30, 440, 25, 350,
              20, 260, 30, 200, 60, 150, 100, 125, 140, 110, 160, 95),
        _poly(275, 312, 310, 312, 310, 332, 275, 332),
        _poly(287, 235, 300, 235, 300, 330, 287, 330),
        _poly(280, 330, 290, 330, 242, 500, 230, 500),
        _poly(288, 330, 298, 330, 298, 490, 290, 490),
        _poly(296, 330, 306, 330, 400, 500, 390, 500),
    ]),
    "clock": ("skimage", "clock_motion.png", [_ellipse(212, 156, 68, 58)]),
    "apple": ("opencv", "data/apple.jpg", [
        _poly(210, 58, 260, 55, 330, 60, 390, 80, 430, 110, 455, 150, 468, 200, 465, 260,
              455, 310, 435, 360, 410, 410, 385, 450, 360, 480, 330, 495, 290, 495, 270, 485,
              250, 495, 200, 500, 150, 495, 115, 470, 90, 420, 70, 360, 60, 300, 55, 240,
              60, 180, 75, 130, 100, 95, 140, 70, 180, 60),
        _poly(200, 10, 212, 10, 222, 55, 210, 58),
    ]),
    "orange": ("opencv", "data/orange.jpg", [
        _poly(240, 55, 300, 60, 360, 80, 410, 120, 445, 170, 460, 230, 458, 300, 445, 360,
              420, 410, 390, 450, 350, 480, 300, 492, 250, 492, 200, 485, 150, 465, 110, 430,
              80, 385, 60, 330, 52, 270, 55, 210, 70, 160, 100, 115, 140, 85, 190, 62),
    ]),
    "butterfly": ("opencv", "data/butterfly.jpg", [
        _poly(230, 75, 240, 78, 245, 100, 270, 105, 320, 108, 370, 112, 420, 120, 455, 135,
              470, 160, 478, 200, 460, 215, 420, 225, 380, 235, 350, 260, 335, 280, 310, 295,
              290, 305, 265, 300, 250, 285, 240, 275, 235, 262, 225, 275, 215, 290, 195, 295,
              170, 292, 150, 275, 130, 265, 105, 250, 70, 240, 40, 230, 15, 225, 8, 205,
              25, 175, 50, 155, 80, 135, 130, 118, 180, 108, 215, 100, 220, 80),
    ]),
    "squirrel": ("opencv", "data/squirrel_cls.jpg", [
        _poly(215, 110, 250, 125, 265, 130, 280, 125, 300, 140, 330, 150, 350, 175, 358, 190,
              345, 200, 330, 210, 345, 215, 360, 230, 370, 245, 345, 260, 320, 265, 300, 265,
              285, 280, 275, 300, 265, 320, 240, 335, 200, 340, 180, 335, 160, 320, 150, 290,
              140, 260, 145, 235, 160, 205, 180, 170, 200, 130),
    ]),
    "dog": ("opencv", "data/chicky_512.png", [
        _poly(0, 95, 40, 90, 100, 70, 150, 40, 200, 25, 260, 30, 310, 45, 360, 70, 400, 110,
              430, 150, 450, 200, 470, 260, 490, 330, 500, 380, 470, 430, 440, 470, 400, 490,
              350, 500, 300, 512, 0, 512),
    ]),
    "plant": ("opencv", "alphamat/input_images/plant.jpg", []),  # opencv's trimap
    "smarties": ("opencv", "data/smarties.png", [
        _ellipse(x, y, r) for x, y, r in [
            (268, 117, 26), (377, 81, 27), (388, 171, 26), (205, 211, 26), (288, 213, 26),
            (347, 238, 26), (33, 228, 26), (98, 259, 27), (152, 272, 27), (220, 306, 28),
            (294, 320, 27), (134, 327, 27), (15, 350, 26), (77, 355, 24),
        ]
    ]),
    "stuff": ("opencv", "data/stuff.jpg", [
        _ellipse(229, 58, 36), _ellipse(395, 185, 58), _ellipse(209, 307, 20),
        _poly(60, 93, 75, 90, 320, 235, 338, 250, 315, 245, 58, 100),
        _poly(316, 318, 355, 318, 356, 460, 316, 460),
    ]),
}  # fmt: skip


@dataclass(frozen=True)
class RealPhoto:
    name: str
    rgb: npt.NDArray[np.uint8]
    mask: npt.NDArray[np.bool_]
    known: npt.NDArray[np.bool_]  # pixels the reference decides (all but a trimap's unknown band)


def real_photos(opencv_examples: Path | None) -> Iterator[RealPhoto]:
    """Every photo of :data:`PHOTOS` whose source is here, with its reference mask."""
    from skimage import data

    roots = {"skimage": Path(data.__file__).parent, "opencv": opencv_examples}
    for name, (source, file, shapes) in PHOTOS.items():
        root = roots[source]
        if root is None or not (root / file).is_file():
            continue
        with Image.open(root / file) as opened:
            rgb = np.asarray(opened.convert("RGB"))
        height, width = rgb.shape[:2]
        if name == "plant":
            trimap = np.asarray(Image.open(root / "alphamat/trimaps/plant.png").convert("L"))
            yield RealPhoto(name, rgb, trimap > 192, (trimap < 64) | (trimap > 192))
            continue
        yield RealPhoto(name, rgb, draw_mask(shapes, width, height),
                        np.ones((height, width), dtype=bool))  # fmt: skip


def draw_mask(shapes: list[Shape], width: int, height: int) -> npt.NDArray[np.bool_]:
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    for kind, values in shapes:
        if kind == "ellipse":
            cx, cy, rx, ry = values
            draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=1)
        else:
            draw.polygon(list(zip(values[::2], values[1::2], strict=True)), fill=1)
    return np.asarray(canvas, dtype=bool)


def boundary_f(
    predicted: npt.NDArray[np.bool_], truth: npt.NDArray[np.bool_], tolerance: float
) -> float:
    """Boundary F-score: precision and recall of boundary pixels within ``tolerance`` pixels."""
    from scipy import ndimage

    def edge(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        return np.asarray(mask & ~ndimage.binary_erosion(mask, border_value=1), dtype=bool)

    found, wanted = edge(predicted), edge(truth)
    if not found.any() or not wanted.any():
        return float(found.any() == wanted.any())
    near_wanted = ndimage.distance_transform_edt(~wanted) <= tolerance
    near_found = ndimage.distance_transform_edt(~found) <= tolerance
    precision = float((found & near_wanted).sum() / found.sum())
    recall = float((wanted & near_found).sum() / wanted.sum())
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
