"""Reports of a run: the versioned run document (`document`), and a registry of reporters
(`registry`), one module per format (html, json, junit, csv, md). Only this package knows HTML;
the HTML page's values come from page_text, status_view, fleet_view, host_view, finding_view
and trend_chart, and `html` renders them.

Nothing is imported here, so that history can read the run document without loading a renderer.
"""
