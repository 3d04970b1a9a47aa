"""Platform-free core of the token-vending service.

Nothing in this package imports a cloud SDK, ``azure.functions`` or
``aws_lambda_powertools`` at import time: each provider module imports its SDK
when it first issues a credential, so a cold start pays only for the request
kinds it serves.
"""
