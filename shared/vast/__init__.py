"""VAST Data: the VMS client, principal -> VAST user mapping, vending and the sweep of expired keys.

The provider module is :mod:`shared.providers.vast_s3`; this package holds what it is built from.
Nothing here imports a cloud SDK.
"""
