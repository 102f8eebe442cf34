#!/bin/sh
# Container entrypoint (scripts/local_stack.py starts its replicas through it too): wait until the database
# answers, migrate it once, then start Streamlit in this process (exec: it gets the container's signals).
# Port and address come from STREAMLIT_SERVER_PORT / STREAMLIT_SERVER_ADDRESS; extra arguments go to
# `streamlit run`, except a command starting with `awsome` (the API service: `awsome api ...`), which runs
# instead of Streamlit. Run from the directory that holds app.py.
set -eu

# On AWS, ECS injects the database secret's fields one by one (deploy/aws): build the URL from them. The
# generated password has no URL-special characters (deploy/aws/awsome_aws/database.py).
if [ -z "${AWSOME_DATABASE_URL:-}" ] && [ -n "${DB_HOST:-}" ]; then
  AWSOME_DATABASE_URL="mysql+pymysql://${DB_USER}:${DB_PASSWORD}@${DB_HOST}:${DB_PORT:-3306}/${DB_NAME:-awsome}"
  [ -z "${DB_URL_QUERY:-}" ] || AWSOME_DATABASE_URL="${AWSOME_DATABASE_URL}?${DB_URL_QUERY}"
  export AWSOME_DATABASE_URL
fi

# The database may still be starting (compose, a fresh RDS instance): wait up to DB_WAIT_SECONDS.
awsome db wait --timeout "${DB_WAIT_SECONDS:-60}"
# Idempotent; on MySQL under the named lock `awsome_migrate`, so replicas that start together migrate one
# after the other and the later ones find nothing to do.
awsome db upgrade
if [ "${1:-}" = "awsome" ]; then
  exec "$@"
fi
exec streamlit run app.py "$@"
