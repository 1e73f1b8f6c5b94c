"""Data sets: IDX images with bundled samples, text corpora and toys. Never imports Keras."""

from __future__ import annotations

from tuiapp.data.images import CLASS_NAMES, ImageData, check_source, class_counts, load_images
from tuiapp.data.sources import IMAGE_SETS, Source, resolve
from tuiapp.data.toys import TOY_SETS

DATASETS = (*IMAGE_SETS, "text", *TOY_SETS)

__all__ = ["CLASS_NAMES", "DATASETS", "IMAGE_SETS", "TOY_SETS", "ImageData", "Source", "check_source", "class_counts",
           "load_images", "resolve"]
