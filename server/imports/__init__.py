"""Bulk administration: users and sites from an Excel sheet, checked row by row before anything
is written (docs/admin.md)."""
