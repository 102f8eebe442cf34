"""Use cases: what a signed-in user can do, each one keyword-only function that owns its transaction.

The Streamlit pages (``ui/``, ``pages/``), the HTTP API (``api/``) and the CLI call these; they are the only
place outside ``awsome_core.auth`` and the catalog import that commits. Every function takes ``sessions``
(a ``sessionmaker`` over the app's engine) and opens its session with
:func:`awsome_core.storage.db.session_scope`, so a database that went away is always
:class:`~awsome_core.errors.StorageUnavailable`. Every function is scoped by ``user_id``: another user's
reading is :class:`~awsome_core.errors.NotFound`, exactly like a reading that does not exist.

Modules: ``readings`` (save, correct, list, delete, photos), ``recommendations`` (rank + record, feedback),
``account`` (photo opt-in, account deletion, export), ``tokens`` (API personal access tokens).
"""
