"""MATLAB .mat export/import for matlab/+xnn (MATLAB and GNU Octave); docs/mat-format.md is the
contract. Imports scipy (and h5py for v7.3 files) only, never torch or tensorflow.

- :func:`export_mat` ``(spec, params, path, *, compress=False, ref_input=None, n_ref=4, seed=0,
  version="auto") -> Path``
- :func:`import_mat` ``(path) -> (spec_dict, params)``; :func:`import_mat_full` also returns
  ``info`` (``info["preprocess"]``: the file's fitted preprocessing, or None)
- :func:`write_data` ``(path, spec, x, y=None, *, classes=None)``: a data .mat file in MATLAB's
  order (``x`` H x W x C x N for images, F x N for features, with ``x_format``)
- :data:`FORMAT_VERSION`: the layout version written in ``xnn_format``.
"""
from __future__ import annotations

from .layouts import mat_layouts
from .data import write_data
from .reader import MAX_MAT_BYTES, import_mat, import_mat_full, read_variables
from .writer import COMPARE_REL_TOL, FORMAT_VERSION, V7_MAX_VAR_BYTES, build_variables, export_mat

__all__ = ["COMPARE_REL_TOL", "FORMAT_VERSION", "MAX_MAT_BYTES", "V7_MAX_VAR_BYTES", "build_variables",
           "export_mat", "import_mat", "import_mat_full", "mat_layouts", "read_variables", "write_data"]
