#!/bin/sh
# `docker run hubbub` serves with gunicorn; `docker run hubbub add-user NAME` (or any other
# hubbub subcommand, or --version) runs that instead. exec: gunicorn is PID 1 and gets the signals.
set -e
case "${1:-}" in
  "" | serve) exec gunicorn -c /app/docker/gunicorn.conf.py ;;
  --version) exec hubbub --version ;;
  -*) exec gunicorn -c /app/docker/gunicorn.conf.py "$@" ;;
  *) exec hubbub "$@" ;;
esac
