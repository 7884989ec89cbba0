"""Looking at results: `_tables` (studies, trials and the best trial as a table, JSON or CSV),
`_report` and `_pngs` (the study's plots), and `_ui` (the MLflow UI with a link per study).

Reads the stores through `search.stores`; never creates one, and never loads TensorFlow.
"""
