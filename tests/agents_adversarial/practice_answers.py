"""Try to get the practice competitions' answers from the datasets bundled with scikit-learn:
through the loaders and by reading their files directly. Prints one JSON object, attempt ->
"blocked: ..." or "ESCAPED: ...".
"""

import json
import os

from sklearn import datasets

from attempts import attempt, report

for loader in ("load_wine", "load_digits", "load_breast_cancer", "load_diabetes"):
    attempt(loader, lambda loader=loader: len(getattr(datasets, loader)().target))

folder = os.path.join(os.path.dirname(datasets.__file__), "data")
for name in ("wine_data.csv", "digits.csv.gz", "breast_cancer.csv", "diabetes_target.csv.gz"):
    attempt(name, lambda name=name: len(open(os.path.join(folder, name), "rb").read()))
attempt("listing", lambda: os.listdir(folder) or (_ for _ in ()).throw(OSError("empty")))

print(json.dumps(report))
