"""The read-only web UI and feeds over the change history."""
