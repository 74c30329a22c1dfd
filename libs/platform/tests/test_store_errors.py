"""What adapters raise instead of pymongo's errors, and how the dead-letter layer takes it."""

import pytest
from newswire_platform import StoreError, StoreUnavailable, store_errors
from newswire_platform.dead_letter import is_transient
from pymongo.errors import DuplicateKeyError, OperationFailure, ServerSelectionTimeoutError

pytestmark = pytest.mark.unit


def test_an_unreachable_store_is_unavailable_and_retried_for_as_long_as_it_lasts() -> None:
    with pytest.raises(StoreUnavailable) as raised, store_errors():
        raise ServerSelectionTimeoutError("no servers")
    assert isinstance(raised.value.__cause__, ServerSelectionTimeoutError)
    assert is_transient(raised.value)


@pytest.mark.parametrize(
    "error", [OperationFailure("bad query", code=2), DuplicateKeyError("E11000", code=11000)]
)
def test_a_refused_operation_is_a_store_error_that_will_not_pass_by_waiting(
    error: Exception,
) -> None:
    with pytest.raises(StoreError) as raised, store_errors():
        raise error
    assert not isinstance(raised.value, StoreUnavailable)
    assert not is_transient(raised.value)


def test_other_errors_pass_through() -> None:
    with pytest.raises(ValueError, match="not the store"), store_errors():
        raise ValueError("not the store")
