"""`make golden`: render the reference images tests/test_node_library.py compares against.

Run it only when a filter is meant to change its output, and look at the new images first.
"""

from pathlib import Path
from typing import Any

from execution.nodes.image import ImageTransform
from execution.refs import ImageRef
from execution.registry import NodeRegistry
from tests import node_samples

GOLDEN = Path(__file__).parent / "golden"
RENDERS: dict[str, tuple[str, dict[str, Any]]] = {
    "emboss": ("image.Emboss", {}),
    "sepia": ("image.Sepia", {}),
    "vignette": ("image.Vignette", {"strength": 0.8}),
    "unsharp": ("image.UnsharpMask", {"radius": 1.5}),
    "hue": ("image.HueShift", {"degrees": 90}),
}


def main() -> None:
    registry = NodeRegistry.discover()
    photo = node_samples.photo()
    GOLDEN.mkdir(exist_ok=True)
    photo.save(GOLDEN / "source.png")
    for name, (node_type, data) in RENDERS.items():
        node_class = registry.get(node_type)
        assert node_class is not None and issubclass(node_class, ImageTransform), node_type
        node = node_class.model_validate({"image": ImageRef(data=b""), **data})
        node.transform(photo.copy()).save(GOLDEN / f"{name}.png")
        print(f"wrote {GOLDEN / name}.png")


if __name__ == "__main__":
    main()
