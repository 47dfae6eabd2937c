"""One ONNX mapping per layer kind, one file per layer (the file layout is the registry).

Each module defines a subclass of :class:`xnn.interop.onnx.mapping.OnnxMapping` with ``kind``
set to the layer kind it lowers.
"""
