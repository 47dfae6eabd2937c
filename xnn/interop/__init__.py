"""Interchange formats: ``xnn.interop.onnx`` (export + import) and ``xnn.interop.mat`` (.mat).

Import the subpackage you need; nothing here imports onnx, scipy or a framework eagerly.
"""
