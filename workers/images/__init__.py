"""Product creatives from product photos: matte, background, layout, text, encoding.

Pure functions over numpy arrays and PIL images (no Celery, no SQL); ONNX Runtime is used
only by the model-backed pieces and imported inside them.

    matte.py       cut the product out: classical studio-backdrop matte, or an ONNX
                   salient-object model with the U²-Net / ISNet / BiRefNet conventions
    background.py  flat / gradient / user-image backgrounds, and the ONNX CPPN generator
    compose.py     lay out product, contact shadow, headline, price badge, brand mark
    text.py        the bundled font, wrapping, WCAG contrast and scrims
    formats.py     canvas sizes, safe zones, encodings
    packshots.py   synthetic studio packshots with known masks (tests, benchmark)
"""
