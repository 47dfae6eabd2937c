"""The layer reference must not fall behind the registry."""
from pathlib import Path

from xnn.spec import layers

ROOT = Path(__file__).resolve().parents[2]


def test_every_registered_layer_is_in_the_layer_reference():
    text = (ROOT / "docs" / "layers.md").read_text()
    summary = text.split("## Summary", 1)[1].split("\n## ", 1)[0]
    missing = [k for k in layers() if f"`{k}`" not in summary]
    assert not missing, f"docs/layers.md Summary lacks: {missing}"
    sections = [k for k in layers() if not any(line.startswith("### ") and k in line for line in text.splitlines())]
    assert not sections, f"docs/layers.md has no ### section for: {sections}"
