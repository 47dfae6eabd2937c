"""Optimising a trained run (``xnn optimize``, docs/tuning.md): int8 quantization of its ONNX
export (:mod:`.quantize`, ONNX Runtime) and magnitude pruning with fine-tuning (:mod:`.prune`);
:mod:`.measure` compares the two models the same way."""
