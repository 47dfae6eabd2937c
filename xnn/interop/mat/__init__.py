"""MATLAB .mat export/import for matlab/+xnn (MATLAB and GNU Octave); docs/mat-format.md is the
contract. Imports scipy (and h5py for v7.3 files) only, never torch or tensorflow.

- :func:`export_mat` ``(spec, params, path, *, compress=False, ref_input=None, n_ref=4, seed=0,
  version="auto") -> Path``
- :func:`import_mat` ``(path) -> (spec_dict, params)``
- :data:`FORMAT_VERSION`: the layout version written in ``xnn_format``.
"""
from __future__ import annotations

from .layouts import mat_layouts
from .reader import MAX_MAT_BYTES, import_mat, read_variables
from .writer import FORMAT_VERSION, V7_MAX_VAR_BYTES, build_variables, export_mat

__all__ = ["FORMAT_VERSION", "MAX_MAT_BYTES", "V7_MAX_VAR_BYTES", "build_variables",
           "export_mat", "import_mat", "mat_layouts", "read_variables"]
