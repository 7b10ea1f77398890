"""flagkit's HTTP service: OFREP and plain-JSON evaluation over FastAPI (`flagkit[service]`)."""
