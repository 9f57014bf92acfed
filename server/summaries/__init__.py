"""Daily risk summaries for leaders: one stored snapshot per scope per local day."""
