"""A VAST Data VMS API simulator for the S3 access key endpoints.

Run it in-process (``with VmsSimulator() as sim: ...``) or standalone with
``python -m localdev.vms_simulator --port 8444``.

From the VMS OpenAPI schema (S3 keys excerpt), under ``/api/``:

* ``POST /s3keys/`` (201) creates a pair for the authenticated caller;
  ``DELETE /s3keys/{access_key}/`` (204). ``GET /s3keys/`` exists in the schema
  with an open response shape; the simulator answers a list of ``S3Key``.
* ``POST|DELETE|PATCH /users/{id}/access_keys/`` for local users: POST body
  ``{"tenant_id"?}`` returns ``UserKeyPair`` with 200; DELETE body
  ``{"access_key"}`` and PATCH body ``{"access_key", "enabled"}`` return 204.
* ``POST|DELETE|PATCH /users/non_local_keys/`` for directory users, named by
  ``uid`` or ``sid`` in the body (``login_name``/``username`` are accepted and
  ignored: the simulator identifies directory users by uid/sid only).
* ``GET /locals3keys/?user_id=&tenant_id=&page=&page_size=`` lists ``S3Key``
  objects of local users.

Behaviour the schema does not pin down, chosen to resemble VMS (a Django
REST Framework app): DRF-style errors (``{"detail": ...}``: 401 for missing or
wrong credentials, 404 ``"Not found."`` for unknown users and for keys that
are missing or belong to someone else, 400 for bad bodies); DRF page-number
pagination (``{"count","next","previous","results"}``) only when
``page_size`` is given, a plain array otherwise; trailing slashes required.
A user may hold at most two keys; a third create answers 400 with
``"User <name> already has 2 access keys. Maximum number of access keys per
user is 2"`` -- this mimics VAST's refusal, but the real wording is not in the
schema, so clients should match on status 400 plus "access keys" and the
number 2. Keys never expire. Access keys are base64 of 16 random bytes and
every third one contains ``/`` and ``+``; in the path endpoint the key is one
segment, so ``/`` must be sent as ``%2F``. Whether real VMS routes ``%2F``
the same way is not known (Django decodes the path before routing), so the
JSON-body delete endpoints are the safer client choice. Auth: HTTP basic or
``Authorization: Api-Token <token>``.

Simulator extensions (not in the schema):

* ``GET /api/users/non_local_keys/?uid=..|?sid=..`` lists a directory user's
  keys (``S3Key`` shape, paginated like the others) so a client can reconcile.
* ``/_sim/`` control endpoints, without auth: ``GET|POST /_sim/keys``,
  ``GET|POST /_sim/faults``, ``GET /_sim/calls``, ``POST /_sim/reset``,
  ``GET|POST /_sim/users`` (see ``admin.py``).
* Fault injection (``fail_next``, ``timeout_after_create``, ``latency``) and
  call counters, also available as methods of ``VmsSimulator``.
"""

from .cli import main
from .simulator import VmsSimulator
from .store import ApiError, NotFound

__all__ = ["VmsSimulator", "ApiError", "NotFound", "main"]
