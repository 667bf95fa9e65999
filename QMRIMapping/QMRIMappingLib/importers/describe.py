"""Plain-text account of a loaded input for ``qmri inspect``: what, which times, and why."""

from __future__ import annotations

from ..mapping_input import MappingInput
from .time_rules import fmt_ms

KIND_WORDS = {
    "prepared": "prepared (T1rho and/or T2-prepared images)",
    "multi-echo": "multi-echo",
}


def describe_input(mapping_input: MappingInput) -> str:
    """Describe the images, their roles and times with reasons, the maps and the notes."""
    images = mapping_input.images
    lines = [f"Input: {mapping_input.source}"]
    if images:
        first = images[0]
        lines.append(f"Format: {first.metadata.get('input_format', 'unknown')}")
        geometry = first.geometry
        lines.append("Grid: " + " x ".join(str(v) for v in geometry.size) + " voxels, spacing "
                     + " x ".join(f"{v:g}" for v in geometry.spacing) + " mm")
    lines.append(f"Kind: {KIND_WORDS.get(mapping_input.kind, mapping_input.kind)}")
    lines.append(f"Images ({len(images)}):")
    for number, image in enumerate(images, start=1):
        lines.append(f"  {number}. {image.source}")
        lines.append(f"     role {image.role}, time {fmt_ms(image.time_ms)} ms")
        lines.append(f"     why: {image.reason}")
        scaling = image.metadata.get("scaling")
        if scaling:
            lines.append(f"     values: {scaling}")
    lines.append("Maps:")
    for name, members in mapping_input.map_series().items():
        times = ", ".join(fmt_ms(im.time_ms) for im in members)
        lines.append(f"  {name}: {times} ms ({len(members)} images)")
    if mapping_input.kind == "multi-echo":
        lines.append(f"Echo map: {mapping_input.echo_map} — {mapping_input.echo_map_reason}")
    lines.append("Notes:" if mapping_input.notes else "Notes: none")
    lines += [f"  - {note}" for note in mapping_input.notes]
    return "\n".join(lines)
