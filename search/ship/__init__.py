"""Using the best model: `_export` (model.keras, a TF SavedModel and tune.json), `_predict`
(raw rows in, labels out) and `_pyfunc` (the same as a registered MLflow pyfunc model).
"""
