"""Pillow drawings: MJ 2×2 grids, upscaled tiles, blurred previews and plain pictures (PNG)."""

from __future__ import annotations

import colorsys
import hashlib
import io
import textwrap
import threading
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageStat

from bot.sandbox.png import encode_png

GRID_LONG_SIDE = 512
LABEL_STROKE = 3


@dataclass(frozen=True, slots=True)
class Picture:
    """What to draw: the prompt, a seed for colours, and metadata stamped into the PNG."""

    prompt: str
    seed: str
    job_hash: str = ""
    task_id: str = ""


# Fonts and the outlined tile numbers (the same in every picture) are kept per worker thread:
# loading the default font decodes it anew, and a font object is not shared between threads.
_per_thread = threading.local()


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    fonts: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont]
    fonts = _per_thread.__dict__.setdefault("fonts", {})
    if size not in fonts:
        fonts[size] = ImageFont.load_default(size=size)
    return fonts[size]


def _label_layer(label: str, size: int) -> tuple[Image.Image, int, int]:
    """A tile number drawn with its outline on a transparent layer, and the offset of the
    layer's corner from the point the number is centred on."""
    labels: dict[tuple[str, int], tuple[Image.Image, int, int]]
    labels = _per_thread.__dict__.setdefault("labels", {})
    key = (label, size)
    if key not in labels:
        font = _font(size)
        probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
        left, top, right, bottom = (
            int(v)
            for v in probe.textbbox(
                (0, 0), label, font=font, anchor="mm", stroke_width=LABEL_STROKE
            )
        )
        layer = Image.new("RGBA", (right - left, bottom - top), (0, 0, 0, 0))
        ImageDraw.Draw(layer).text((-left, -top), label, fill=(255, 255, 255), font=font,
                                   anchor="mm", stroke_width=LABEL_STROKE, stroke_fill=(0, 0, 0))
        labels[key] = (layer, left, top)
    return labels[key]


def _shade(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    """The darker colour of a tile's stripes."""
    return max(0, colour[0] - 40), max(0, colour[1] - 40), max(0, colour[2] - 40)


def _colour(seed: str, index: int) -> tuple[int, int, int]:
    digest = hashlib.sha256(f"{seed}:{index}".encode()).digest()
    hue = (digest[0] / 255.0 + index * 0.25) % 1.0
    red, green, blue = colorsys.hsv_to_rgb(hue, 0.45 + digest[1] / 1020.0, 0.55 + digest[2] / 850.0)
    return int(red * 255), int(green * 255), int(blue * 255)


def grid_size(aspect: tuple[int, int]) -> tuple[int, int]:
    """Pixel size of a picture with the given aspect ratio, its long side GRID_LONG_SIDE."""
    width, height = aspect
    if width >= height:
        return GRID_LONG_SIDE, max(64, round(GRID_LONG_SIDE * height / width))
    return max(64, round(GRID_LONG_SIDE * width / height)), GRID_LONG_SIDE


def _prompt_layer(size: tuple[int, int], prompt: str) -> tuple[Image.Image, tuple[int, int]]:
    """The prompt's lines as drawn on a tile of `size`: a transparent layer as small as the
    text, and where its corner goes on the tile.

    Text is the slowest part of a drawing and the four tiles of a grid show the same lines, so
    a grid draws them once and lays them over each tile. A drop shadow keeps them legible on
    any colour at a third of the cost of an outline (FreeType strokes every glyph anew).
    """
    width, height = size
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    text_font = _font(max(10, width // 18))
    lines = textwrap.wrap(prompt, width=max(8, width * 18 // 10 // max(10, width // 18))) or [""]
    y = height * 3 // 5
    for line in lines[:4]:
        draw.text((8, y), line, fill=255, font=text_font)
        y += max(12, width // 14)
    box = mask.getbbox()
    if box is None:
        return Image.new("RGBA", (1, 1), (0, 0, 0, 0)), (0, 0)
    left, top, right, bottom = box
    glyphs = mask.crop(box)
    layer = Image.new("RGBA", (right - left + 1, bottom - top + 1), (0, 0, 0, 0))
    layer.paste((0, 0, 0, 255), (1, 1), glyphs)
    layer.paste((255, 255, 255, 255), (0, 0), glyphs)
    return layer, (left, top)


def _draw_tile(image: Image.Image, box: tuple[int, int, int, int], label: str,
               colour: tuple[int, int, int],
               prompt_layer: tuple[Image.Image, tuple[int, int]]) -> None:
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    # Drawn on its own canvas and pasted, so stripes never spill into the next tile.
    tile = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(tile)
    shade = _shade(colour)
    for offset in range(-width, width, max(16, width // 6)):
        draw.line([(offset, height), (offset + width, 0)], fill=shade, width=6)
    draw.rectangle((0, 0, width - 1, height - 1), outline=(255, 255, 255), width=2)
    number, left_of, top_of = _label_layer(label, max(24, min(width, height) // 3))
    tile.paste(number, (width // 2 + left_of, height // 3 + top_of), number)
    text, corner = prompt_layer
    tile.paste(text, corner, text)
    image.paste(tile, (left, top))


def _png(image: Image.Image, picture: Picture) -> bytes:
    texts = {"mj-hash": picture.job_hash, "mj-task": picture.task_id}
    return encode_png(image, {k: v for k, v in texts.items() if v}, {"prompt": picture.prompt})


def _palette(colours: list[tuple[int, int, int]]) -> Image.Image:
    """A palette holding every colour a drawing of tiles in `colours` uses: each tile colour,
    its stripes, their blends into the white and black of the text, and greys."""
    entries = [(0, 0, 0), (255, 255, 255), (64, 64, 64), (128, 128, 128), (191, 191, 191)]
    for colour in colours:
        entries += [colour, _shade(colour)]
        for share in (0.25, 0.5, 0.75):
            entries.append(_blend(colour, (255, 255, 255), share))
            entries.append(_blend(colour, (0, 0, 0), share))
    palette = Image.new("P", (1, 1))
    palette.putpalette([value for entry in entries for value in entry])
    return palette


def _blend(a: tuple[int, int, int], b: tuple[int, int, int], share: float) -> tuple[int, int, int]:
    return (round(a[0] + (b[0] - a[0]) * share), round(a[1] + (b[1] - a[1]) * share),
            round(a[2] + (b[2] - a[2]) * share))


def _flat_png(image: Image.Image, picture: Picture, colours: list[tuple[int, int, int]]) -> bytes:
    """`_png` of a flat-coloured drawing (tiles, stripes, text) as a palette image.

    A third of the pixel bytes makes the encoding a third as costly. The palette is made of the
    drawing's own colours, so every tile keeps its exact colour; blurred previews have too many
    colours for that, so they stay RGB.
    """
    return _png(image.quantize(palette=_palette(colours), dither=Image.Dither.NONE), picture)


def draw_grid(picture: Picture, size: tuple[int, int]) -> Image.Image:
    """Four numbered tiles: 1 top-left, 2 top-right, 3 bottom-left, 4 bottom-right."""
    width, height = size
    image = Image.new("RGB", size, (0, 0, 0))
    half_w, half_h = width // 2, height // 2
    boxes = [(0, 0, half_w, half_h), (half_w, 0, width, half_h),
             (0, half_h, half_w, height), (half_w, half_h, width, height)]
    layers: dict[tuple[int, int], tuple[Image.Image, tuple[int, int]]] = {}
    for index, box in enumerate(boxes, start=1):
        tile_size = (box[2] - box[0], box[3] - box[1])
        if tile_size not in layers:
            layers[tile_size] = _prompt_layer(tile_size, picture.prompt)
        _draw_tile(image, box, str(index), _colour(picture.seed, index), layers[tile_size])
    return image


def grid_png(picture: Picture, size: tuple[int, int]) -> bytes:
    """The finished grid as PNG bytes."""
    colours = [_colour(picture.seed, index) for index in range(1, 5)]
    return _flat_png(draw_grid(picture, size), picture, colours)


def _preview_of(grid: Image.Image, picture: Picture) -> bytes:
    if min(grid.size) >= 128:
        small = grid.reduce(4)  # a box average: a fraction of a resize's cost
    else:
        small = grid.resize((max(32, grid.width // 4), max(32, grid.height // 4)))
    return _png(small.filter(ImageFilter.GaussianBlur(3)), Picture(picture.prompt, picture.seed))


def preview_png(picture: Picture, size: tuple[int, int]) -> bytes:
    """A blurred quarter-size grid, like Discord's progress previews."""
    return _preview_of(draw_grid(picture, size), picture)


def warm_up() -> None:
    """Draw one grid and its preview and drop them: loads Pillow's codecs, the fonts and the
    tile numbers."""
    preview_png(Picture("warm up", "0"), grid_size((1, 1)))
    grid_png(Picture("warm up", "0"), grid_size((1, 1)))


def single_png(picture: Picture, size: tuple[int, int], label: str, tile: int) -> bytes:
    """One image (an upscale of tile `tile`, a face swap, a DALL·E picture) labelled `label`."""
    image = Image.new("RGB", size, (0, 0, 0))
    colour = _colour(picture.seed, tile)
    _draw_tile(image, (0, 0, size[0], size[1]), label, colour,
               _prompt_layer(size, picture.prompt))
    return _flat_png(image, picture, [colour])


def poster_png(picture: Picture, size: tuple[int, int], label: str, tile: int) -> bytes:
    """A picture at any size for little cost (DALL·E answers at the size asked): one flat
    colour, `label` in the middle and the prompt's first words below it."""
    width, height = size
    image = Image.new("P", size, 0)
    image.putpalette([*_colour(picture.seed, tile), 255, 255, 255, 0, 0, 0])
    draw = ImageDraw.Draw(image)
    draw.text((width // 2, height // 3), label, fill=1, font=_font(max(24, min(size) // 6)),
              anchor="mm", stroke_width=LABEL_STROKE, stroke_fill=2)
    text_size = max(12, min(size) // 20)
    y = height * 3 // 5
    for line in textwrap.wrap(picture.prompt, 40)[:3]:
        draw.text((width // 2, y), line, fill=1, font=_font(text_size), anchor="ma")
        y += text_size * 5 // 4
    return _png(image, picture)


@dataclass(frozen=True, slots=True)
class ImageFacts:
    """What describe derives from an upload: size and dominant colour name."""

    width: int
    height: int
    colour: str


_COLOUR_NAMES = (
    ((0, 0, 0), "black"), ((255, 255, 255), "white"), ((128, 128, 128), "grey"),
    ((220, 40, 40), "red"), ((40, 170, 60), "green"), ((50, 80, 220), "blue"),
    ((240, 220, 50), "yellow"), ((240, 140, 30), "orange"), ((150, 60, 190), "purple"),
    ((240, 130, 180), "pink"), ((40, 200, 210), "cyan"), ((130, 80, 40), "brown"),
)


def image_facts(data: bytes) -> ImageFacts | None:
    """Size and nearest named mean colour of an image, or None when Pillow cannot read it."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            rgb = image.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    mean = ImageStat.Stat(rgb).mean
    name = min(_COLOUR_NAMES,
               key=lambda item: sum((a - b) ** 2 for a, b in zip(item[0], mean, strict=True)))[1]
    return ImageFacts(rgb.width, rgb.height, name)
