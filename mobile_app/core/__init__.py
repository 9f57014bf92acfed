"""The tablet's engine without Kivy: local store, outbox, chains and the sync client
(docs/sync.md). The screens call it through ``mobile_app/ui``'s backend adapter."""
