"""Adapters: embedded (SQLite, files, in-process queue) and GCP (Firestore, GCS, Cloud Tasks)."""
