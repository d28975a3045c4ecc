-- wrk script: a sync call of bench/noop (the body comes from $FL_BODY).
wrk.method = "POST"
wrk.body = os.getenv("FL_BODY") or '{"user":"bench","function":"noop"}'
wrk.headers["Content-Type"] = "application/json"
