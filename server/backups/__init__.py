"""Backups of the database and the blob store, with a manifest that makes a restore checkable."""
