"""flagkit's HTTP service: OFREP and plain-JSON evaluation over FastAPI.

Installed by `pip install 'flagkit-engine[service]'`; run by `flagkit serve`, or
`python -m service` (the same options).
"""
