"""Framework-neutral training semantics: losses, optimizers and schedules in NumPy (the
reference), the epoch loop and the run directory. Never imports torch or tensorflow; the
backends plug in through ``xnn.backends.<name>.train``.
"""
from .loop import ArrayData, TrainResult, fit
from .run import load_run
from .schedules import lr_at

__all__ = ["ArrayData", "TrainResult", "fit", "load_run", "lr_at"]
