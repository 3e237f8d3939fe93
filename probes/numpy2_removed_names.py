"""NumPy 2 removals: prints `gone NAME` or `kept NAME` for each name (CASE aliases: the builtin aliases removed
in 1.24; CASE numpy2: names removed in 2.0; CASE replacements: the names the fixes write)."""
import sys

import numpy as np

NAMES = {
    "aliases": "float int object str complex unicode bool long",
    "numpy2": "float_ complex_ NaN Inf infty PINF NINF product cumproduct alltrue sometrue string_ unicode_ round_ "
              "bool8 int0 uint0 trapz mat in1d asfarray msort",
    "replacements": "float64 complex128 nan inf prod cumprod all any bytes_ str_ round bool_ intp uintp trapezoid "
                    "asmatrix isin",
}
case = sys.argv[1]
print(np.__version__)
for name in NAMES[case].split():
    print("kept" if hasattr(np, name) else "gone", name)
print("np.bool is numpy.bool_:", np.bool is np.bool_, "np.long is int64:", np.long is np.int64)
