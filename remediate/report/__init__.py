"""Report renderers: one module per format; only this package knows about HTML."""
