"""The report: tables, plots, the summary and one HTML page."""
