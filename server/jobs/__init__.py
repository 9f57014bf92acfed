"""Scheduled work that is not owned by one domain: the job lock, reminders, escalation and
notification delivery. Each job is a plain function of a session and ``now``."""
