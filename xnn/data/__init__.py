"""Framework-neutral data pipeline (NumPy only): sources, checks, seeded stratified splits,
preprocessing fitted on the training split, deterministic batches and augmentation.

    ds = xnn.data.load(spec)              # ds.train, ds.val, ds.test: (x, y)
    for xb, yb in xnn.data.batches(*ds.train, 32, seed=0, epoch=3, augment=spec.data.augment):
        ...
"""
from .batches import augment_batch, batches, epoch_order, n_batches
from .dataset import Dataset, conform_x, conform_y, hash_arrays, load, read_file, read_source, split_indices
from .files import MAX_ARRAY_BYTES, MAX_FILE_BYTES, RawData, read_any
from .preprocess import Preprocess
from .sources import BUILTIN

__all__ = ["BUILTIN", "Dataset", "MAX_ARRAY_BYTES", "MAX_FILE_BYTES", "Preprocess", "RawData", "augment_batch",
           "batches", "conform_x", "conform_y", "epoch_order", "hash_arrays", "load", "n_batches", "read_any",
           "read_file", "read_source", "split_indices"]
