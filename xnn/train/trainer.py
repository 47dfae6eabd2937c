"""What the backends' ``Trainer`` classes share, framework-neutral: the lazily converted step
outputs and evaluation through xnn's NumPy loss and metric formulas."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import losses as L


class TrainerBase:
    """Subclasses set ``self.model``, ``self.train``, ``self.class_weights`` and define
    ``_predict(x, batch_size)`` and ``_to_numpy(tensor)``; ``train_step`` stores its outputs with
    ``self._keep_output(out)``."""

    _last_out: Any = None
    _last_np: np.ndarray | None = None

    def _keep_output(self, out) -> None:
        self._last_out, self._last_np = out, None

    @property
    def last_output(self) -> np.ndarray | None:
        """Outputs of the latest ``train_step`` as NumPy. Converted on first read, so steps whose
        outputs nobody reads (no training metrics) skip the device-to-host copy."""
        if self._last_np is None and self._last_out is not None:
            self._last_np = self._to_numpy(self._last_out)
        return self._last_np

    @last_output.setter
    def last_output(self, value) -> None:
        self._last_out, self._last_np = None, value

    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int = 256) -> dict[str, float]:
        """Loss and metrics in evaluation mode (xnn's NumPy formulas on the outputs)."""
        z = self._predict(x, batch_size)
        return L.evaluate_outputs(self.train, z, y, self.class_weights)
