"""The scripts that run on hosts (package data) and the formats they share with Python."""
