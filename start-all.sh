#!/usr/bin/env bash
# One process serves the API and runs both workers on one pool-limited MongoClient.
# Stop it with Ctrl-C or `kill -TERM <pid>`: it drains, stops the workers and closes its connections.
exec deno task start "$@"
