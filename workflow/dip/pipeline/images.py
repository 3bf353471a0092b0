"""The images an experiment names, resolved to their sources.

An image is a registry name (``barbara``: the first set the registry lists with a ground truth
for it), a name in a given set (``set14_x4/barbara``, id ``set14_x4-barbara``, so the
Table-1 Barbara and Set14's never share a path), or a local file::

    {name: cat, path: photos/cat.jpg, sha256: <optional>, mask: photos/cat_mask.png}

A local file is checked at planning time: it must exist, be a readable image and match its
sha256 when one is given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..data import registry
from ..errors import DipError
from ..files.hashes import sha256_file
from ..spec.tasks import given_roles

_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")


@dataclass(frozen=True)
class ImageRef:
    id: str                  # in paths
    name: str                # registry image name (or the local image's name)
    set: str | None = None   # registry set, when one was named
    path: str | None = None  # a local file instead of the registry
    mask: str | None = None  # a local mask file (255 = known)
    ground_truth: bool = True

    @property
    def local(self) -> bool:
        return self.path is not None


def _local_size(path: str, where: str) -> tuple[int, int]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return im.size[1], im.size[0]
    except FileNotFoundError:
        raise DipError(f"{where}: local image {path} does not exist") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise DipError(f"{where}: local image {path} is not a readable image ({exc})") from None


def resolve(config: dict, item, where: str) -> ImageRef:
    """One entry of an experiment's `images` list."""
    if isinstance(item, dict):
        name, path = item.get("name"), item.get("path")
        if not name or not _NAME.match(str(name)) or not path:
            raise DipError(f"{where}: a local image needs a `name` (letters, digits, _ . -) and a `path`")
        _local_size(path, where)
        if item.get("sha256") and sha256_file(path) != str(item["sha256"]).lower():
            raise DipError(f"{where}: local image {path} does not match its sha256 "
                           f"({sha256_file(path)} != {item['sha256']})")
        mask = item.get("mask")
        if mask is not None:
            _local_size(mask, where + " (mask)")
        return ImageRef(str(name), str(name), None, str(path), mask, bool(item.get("ground_truth", True)))
    text = str(item)
    set_, _, name = text.rpartition("/")
    ref_id = f"{set_}-{name}" if set_ else name
    try:
        registry.file_for(config, name, "gt", set_ or None)
    except DipError as no_gt:
        # Files a task takes as given, with no clean version (a flash / no-flash pair): fitted,
        # never scored.
        for role in given_roles():
            try:
                registry.file_for(config, name, role, set_ or None)
            except DipError:
                continue
            return ImageRef(ref_id, name, set_ or None, ground_truth=False)
        raise no_gt from None  # an unknown image is an error now, named as one without a gt
    return ImageRef(ref_id, name, set_ or None)


def size(config: dict, ref: ImageRef, role: str, where: str) -> tuple[int, int]:
    """(height, width) of the image's file for ``role`` (a local image: its file), before any
    crop or pad."""
    if ref.local:
        return _local_size(ref.path, where)
    item = registry.entry(config, registry.file_for(config, ref.name, role, ref.set))
    if not (item.width and item.height):
        raise DipError(f"data registry entry {item.path}: no width/height")
    return item.height, item.width


def source(config: dict, ref: ImageRef, role: str) -> str:
    """The file (data/raw/... or the local path) holding the image's file for a role."""
    if ref.local:
        if role == "gt":
            return ref.path
        if role == "mask" and ref.mask:
            return ref.mask
        raise DipError(f"local image '{ref.id}' has no '{role}' file")
    return registry.raw_path(registry.file_for(config, ref.name, role, ref.set))


def registry_path(config: dict, ref: ImageRef, role: str) -> str | None:
    """The registry path of the image's file for a role (None for local files)."""
    return None if ref.local else registry.file_for(config, ref.name, role, ref.set)
