"""Op families of the ONNX importer; each module registers its handlers (registry.handles)."""
