"""The HTTP service, settings, accounts, rate limiting and the ``dcc`` command line."""
