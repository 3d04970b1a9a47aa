from fixtures import Run, config_dir, idp, service, signed_in, tvs  # noqa: F401 - fixtures for every test here
