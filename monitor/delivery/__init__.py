"""From stored changes to sent alerts: the outbox, the dispatcher with its retries, comment-
deadline reminders."""
