"""Redacted copies: a new item made from an original with third parties hidden (see
``evidencekit._internal.redact`` for why and what can be redacted reliably), the original kept.

    report.redact(locker, "E-003", passphrase, boxes=[Box.parse("10,20,300,40")], masks=["Kari"])
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from evidencekit import __version__
from evidencekit._internal.capture.model import FULL_PAGE
from evidencekit._internal.redact import KIND, Box, burn, check_burned, mask_json, mask_patterns, mask_text, png
from evidencekit._internal.report import contents
from evidencekit._internal.report.pictures import open_image
from evidencekit.errors import UserError
from evidencekit.locker import Locker, Source
from evidencekit.models import Item, ItemFile


def _read_checked(locker: Locker, item: Item, file: ItemFile) -> bytes:
    data = contents.read(locker, file)
    if hashlib.sha256(data).hexdigest() != file.sha256:
        raise UserError("items.blob_damaged", item=item.label, name=file.name)
    return data


def _boxes_by_file(item: Item, boxes: Sequence[Box]) -> dict[str, list[Box]]:
    pictures = [f.name for f in item.files if contents.is_picture(f)]
    if boxes and not pictures:
        raise UserError("report.redact_no_pictures", item=item.label)
    by_file: dict[str, list[Box]] = {}
    for box in boxes:
        name = box.file
        if name is None:
            default = FULL_PAGE if item.kind == "web" and FULL_PAGE in pictures else None
            if default is None and len(pictures) > 1:
                raise UserError("report.redact_box_which", item=item.label, names=", ".join(pictures),
                                example=f"{pictures[0]}:{box}")
            name = default or pictures[0]
        elif name not in pictures:
            raise UserError("report.redact_box_no_picture", item=item.label, name=name, names=", ".join(pictures))
        by_file.setdefault(name, []).append(box)
    return by_file


def _picture(locker: Locker, item: Item, file: ItemFile, boxes: list[Box]) -> bytes:
    """The picture with its boxes burned in, checked before it is handed back."""
    _read_checked(locker, item, file)
    image = open_image(locker, file)
    if image is None or getattr(image, "n_frames", 1) > 1:
        raise UserError("report.redact_picture_unusable", name=file.name, item=item.label)
    width, height = image.size
    for box in boxes:
        if box.x + box.width > width or box.y + box.height > height:
            raise UserError("report.redact_box_outside", box=str(box), name=file.name, width=width, height=height)
    data = png(burn(image, boxes))
    if not check_burned(image, data, boxes):
        raise UserError("report.redact_check_failed", name=file.name)
    return data


def _png_name(name: str) -> str:
    stem, dot, suffix = name.rpartition(".")
    return name if suffix.lower() == "png" else f"{stem if dot else name}.png"


def redact(
    locker: Locker,
    ref: str,
    passphrase: str,
    *,
    boxes: Sequence[Box] = (),
    masks: Sequence[str] = (),
    case: str | None = None,
) -> Item:
    """Make the redaction of item ``ref`` as a new item; the original stays as it is."""
    target = locker.case(case)
    original = locker.item(ref, target.id)
    if not boxes and not masks:
        raise UserError("report.redact_nothing_asked")
    patterns = mask_patterns(masks)
    by_file = _boxes_by_file(original, boxes)
    locker.case_signer(target.id, passphrase)  # a wrong passphrase fails before any work
    counts = [0] * len(patterns)
    sources: list[Source] = []
    done: list[dict[str, Any]] = []
    left_out: list[dict[str, str]] = []

    def name_of(file: ItemFile) -> str:
        return mask_text(file.name, patterns, counts)

    for file in original.files:
        if contents.is_picture(file):
            if file.name not in by_file:
                left_out.append({"name": name_of(file), "reason": "picture_no_box"})
                continue
            burned = _picture(locker, original, file, by_file[file.name])
            name = _png_name(name_of(file))
            sources.append(Source(name, data=burned, media_type="image/png"))
            boxed = [[b.x, b.y, b.width, b.height] for b in by_file[file.name]]
            done.append({"file": name, "from": name_of(file), "boxes": boxed})
        elif contents.is_transcript(locker, file) or contents.is_text(file):
            if not patterns:
                left_out.append({"name": name_of(file), "reason": "text_no_mask"})
                continue
            data = _read_checked(locker, original, file)
            before = sum(counts)
            if contents.is_transcript(locker, file):
                masked = mask_json(json.loads(data), patterns, counts)
                out = json.dumps(masked, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
            else:
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError:
                    left_out.append({"name": name_of(file), "reason": "not_utf8"})
                    continue
                out = mask_text(text, patterns, counts).encode("utf-8")
            name = name_of(file)
            sources.append(Source(name, data=out, media_type=file.media_type))
            done.append({"file": name, "from": name, "masked": sum(counts) - before})
        else:
            left_out.append({"name": name_of(file), "reason": "cannot_redact"})
    facts = original.incident
    masked_facts = facts.masked(lambda text: mask_text(text, patterns, counts))
    for mask, hits in zip(masks, counts):
        if not hits:
            raise UserError("report.redact_mask_not_found", mask=mask.strip(), item=original.label)
    if not sources:
        raise UserError("report.redact_nothing_left", item=original.label)
    acquired = {
        "method": "redaction",
        "tool": f"evidencekit {__version__}",
        "derived_from": {"item": original.label, "record_sha256": original.record_sha256},
        "source": {"kind": original.kind, "created": original.created},
        "redactions": done,
        "masks": {"count": len(patterns), "replaced": sum(counts)},
        "left_out": left_out,
    }
    return locker.add_items([(KIND, sources, acquired, masked_facts)], passphrase, target.id)[0]
