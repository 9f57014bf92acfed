"""The web console under ``/console/``: server-rendered pages for safety officers, leaders and
admins. Every page calls the same services as the API; nothing here decides a domain rule."""
