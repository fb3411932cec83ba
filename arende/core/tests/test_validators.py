import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from arende.core.validators import luhn_ok, normalise_org_number


@pytest.mark.parametrize(
    "value, expected",
    [
        ("212000-1520", "212000-1520"),  # Herrljunga kommun
        ("2120001454", "212000-1454"),  # Vårgårda kommun, written without the dash
        (" 212000-1454 ", "212000-1454"),
    ],
)
def test_real_municipal_numbers_are_accepted(value, expected):
    assert normalise_org_number(value) == expected


@pytest.mark.parametrize(
    "value, code",
    [
        ("212000-1521", "org_number_checksum"),
        ("212000-152", "org_number_format"),
        ("21200O-1520", "org_number_format"),
        ("811228-9874", "org_number_kind"),  # a valid personal number is not an org number
    ],
)
def test_bad_numbers_are_refused_with_a_reason(value, code):
    with pytest.raises(ValidationError) as error:
        normalise_org_number(value)
    assert error.value.code == code


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_exactly_one_check_digit_makes_a_number_valid(body):
    valid = [digit for digit in "0123456789" if luhn_ok(body + digit)]
    assert len(valid) == 1


@given(
    st.text(alphabet="0123456789", min_size=10, max_size=10), st.integers(0, 9), st.integers(1, 9)
)
def test_changing_one_digit_breaks_the_check(number, position, delta):
    if not luhn_ok(number):
        return
    changed = list(number)
    changed[position] = str((int(changed[position]) + delta) % 10)
    assert not luhn_ok("".join(changed))
