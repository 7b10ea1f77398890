"""flagkit's HTTP service: OFREP and plain-JSON evaluation over FastAPI.

Installed with the `service` extra: `pip install 'flagkit-engine[service]'`.
"""
