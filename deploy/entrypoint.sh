#!/bin/sh
# Container entrypoint (scripts/local_stack.py starts its replicas through it too): wait until the database
# answers, migrate it once, then start Streamlit in this process (exec: it gets the container's signals).
# Port and address come from STREAMLIT_SERVER_PORT / STREAMLIT_SERVER_ADDRESS; extra arguments go to
# `streamlit run`. Run from the directory that holds app.py.
set -eu

# The database may still be starting (compose, a fresh RDS instance): wait up to DB_WAIT_SECONDS.
awsome db wait --timeout "${DB_WAIT_SECONDS:-60}"
# Idempotent; on MySQL under the named lock `awsome_migrate`, so replicas that start together migrate one
# after the other and the later ones find nothing to do.
awsome db upgrade
exec streamlit run app.py "$@"
