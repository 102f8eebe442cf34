"""A user's history: readings over time, what played, what helped; export and deletion.

``queries`` reads (every query scoped to one user), ``summary`` turns readings into numbers and words,
``figures`` into plotly charts, ``userdata`` exports and deletes. The History page uses all four.
"""

from awsome_core.history.queries import Dashboard, HistoryFrame, load_dashboard, load_history
from awsome_core.history.userdata import export_csv, export_json, export_rows

__all__ = ["Dashboard", "HistoryFrame", "export_csv", "export_json", "export_rows", "load_dashboard", "load_history"]
