"""Storage access-manager compatibility (docs/accessmanager.md): organizations, spaces and their roles.

An **organization** is a storage account (or an S3 bucket), a **space** is a container in it, and every
organization has a space named ``loadingzone`` for incoming data. Callers hold roles such as
``org_<organization>_access`` and ``spc_<space>_supplier``; the routes under ``/api/v2.0/accessmanager``
answer container SAS tokens and commit uploads, exactly as that service's clients expect.

- ``directory``: the ``accessmanager`` section of the configuration (organizations, spaces, settings);
- ``roles``: the pure role model (who may READ, WRITE or DELETE where); no I/O, no clock;
- ``notifiers``: where a commit event goes (Azure Event Hubs, Amazon EventBridge, a log line);
- ``service``: the SAS and commit service on top of the Azure vendor, the cache and the notifier.
"""
