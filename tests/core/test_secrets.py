"""Secret references that cannot be resolved are a 503 naming the reference, never a 500 or the secret."""

from __future__ import annotations

import pytest

from shared.errors import Problem
from shared.secrets import SecretResolver


@pytest.mark.parametrize(
    "ref, environ",
    [
        ({"file": "does/not/exist/secret.txt"}, {}),
        ({"env": "S", "json_key": "missing"}, {"S": '{"other": "hunter2"}'}),
        ({"env": "S", "json_key": "k"}, {"S": "hunter2-not-json"}),
        ({"env": "S", "json_key": "k"}, {"S": '["hunter2"]'}),
    ],
)
def test_an_unresolvable_secret_reference_is_a_503_without_the_secret(ref, environ):
    with pytest.raises(Problem) as err:
        SecretResolver(environ).resolve(ref)
    assert err.value.status == 503 and "hunter2" not in err.value.detail


def test_a_missing_environment_variable_is_named_in_the_log_not_in_the_answer(caplog):
    with pytest.raises(Problem) as err:
        SecretResolver({}).resolve({"env": "TVS_PARTNER_KEY"})
    assert err.value.status == 503 and "TVS_PARTNER_KEY" not in err.value.detail
    assert "TVS_PARTNER_KEY" in caplog.text
