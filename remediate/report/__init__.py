"""Reports of a run: the versioned run document (`document`), and a registry of reporters
(`registry`), one module per format (html, json, junit, csv, md). Only this package knows HTML.

Nothing is imported here, so that history can read the run document without loading a renderer.
"""
