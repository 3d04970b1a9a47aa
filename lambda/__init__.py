"""AWS Lambda adapter: the API Gateway HTTP API handler (:mod:`.api`) and the scheduled sweep (:mod:`.sweep`).

``lambda`` is a Python keyword, so nothing imports this package with an ``import`` statement: the
Lambda runtime resolves the handler strings ``lambda/api.handler`` and ``lambda/sweep.handler``
with :func:`importlib.import_module`, and so do the tests (``importlib.import_module("lambda.api")``).
"""
