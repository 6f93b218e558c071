"""Persistence behind a narrow interface: `Store` in `storage.base`, SQLAlchemy Core below it."""
