"""Chat-framework adapters: translate updates in, call a service, send results out."""
