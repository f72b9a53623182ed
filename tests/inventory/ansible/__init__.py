"""The differential test's corpus, recorded answers and recorder (issue 14)."""
