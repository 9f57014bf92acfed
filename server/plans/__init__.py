"""Recurring inspections: plans (sites × template × recurrence) and the tasks they create."""
