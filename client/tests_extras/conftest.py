from fixtures import config_dir, idp, service, signed_in, tvs  # noqa: F401 - the fixtures of client/tests
