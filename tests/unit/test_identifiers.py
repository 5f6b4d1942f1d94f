import pytest

from app.api.schemas import canonical_registration_number
from app.domain.identifiers import (
    BankAccount,
    EnterpriseNumber,
    InvalidIdentifier,
    RegistrationNumber,
    RegistrationUnit,
    ServiceType,
    written_registration_numbers,
)


@pytest.mark.parametrize("text", ["BE 0403.170.701", "0403170701", "403170701", "be0403170701"])
def test_enterprise_number_common_forms_are_one_canonical_number(text: str) -> None:
    number = EnterpriseNumber.parse(text)
    assert str(number) == "0403170701"
    assert number.formatted == "0403.170.701"


@pytest.mark.parametrize("text", ["0403170702", "040317070", "12345678901", "", "BE 0403.170.70X"])
def test_enterprise_number_with_a_bad_check_or_length_is_refused(text: str) -> None:
    with pytest.raises(InvalidIdentifier):
        EnterpriseNumber.parse(text)


def test_enterprise_number_check_is_97_minus_first_eight_mod_97() -> None:
    first_eight = 4031707
    assert 97 - first_eight % 97 == 1  # 0403170701 ends in 01
    assert str(EnterpriseNumber.parse("0403170701")) == "0403170701"


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("BE68 5390 0754 7034", "BE68539007547034"),
        ("NL91ABNA0417164300", "NL91ABNA0417164300"),
        ("CH9300762011623852957", "CH9300762011623852957"),  # SEPA, not EU
    ],
)
def test_sepa_ibans_are_accepted(text: str, canonical: str) -> None:
    assert str(BankAccount.parse(text)) == canonical


@pytest.mark.parametrize(
    "text",
    [
        "BE68539007547035",  # bad check digits
        "BR1800360305000010009795493C1",  # valid IBAN, not SEPA
        "US12345",
        "",
    ],
)
def test_non_sepa_or_invalid_ibans_are_refused(text: str) -> None:
    with pytest.raises(InvalidIdentifier):
        BankAccount.parse(text)


@pytest.mark.parametrize(
    ("text", "service", "serial"),
    [
        ("DV.O236716", ServiceType.TRAINING, 236716),
        ("DVO236716", ServiceType.TRAINING, 236716),
        ("dv.o 236716", ServiceType.TRAINING, 236716),
        ("DV.A104813", ServiceType.ADVICE, 104813),
        (" dva104813 ", ServiceType.ADVICE, 104813),
    ],
)
def test_registration_numbers_parse_with_or_without_the_dot(
    text: str, service: ServiceType, serial: int
) -> None:
    number = RegistrationNumber.parse(text)
    assert (number.service_type, number.serial) == (service, serial)
    assert str(number) == f"DV.{service.number_letter}{serial:06d}"


@pytest.mark.parametrize(
    "text", ["DV.X123456", "DV.O12345", "DV.O1234567", "O123456", "DV.O000000"]
)
def test_malformed_registration_numbers_are_refused(text: str) -> None:
    with pytest.raises(InvalidIdentifier):
        RegistrationNumber.parse(text)


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("DV.O17", ["DV.O000017"]),
        ("dvo17", ["DV.O000017"]),
        ("DV.A 104813", ["DV.A104813"]),
        ("dv.o.17", ["DV.O000017"]),
        ("17", ["DV.O000017", "DV.A000017"]),  # one counter serves both service types
        (" 000017 ", ["DV.O000017", "DV.A000017"]),
    ],
)
def test_a_written_number_is_padded_and_the_digits_alone_mean_either_type(
    text: str, meant: list[str]
) -> None:
    assert [str(n) for n in written_registration_numbers(text)] == meant


@pytest.mark.parametrize("text", ["DV.X17", "DV.O", "0", "DV.O0", "1234567", "O17", "17a", ""])
def test_what_is_no_written_number_is_refused(text: str) -> None:
    with pytest.raises(InvalidIdentifier):
        written_registration_numbers(text)


def test_the_api_s_validator_pads_and_wants_the_service_type() -> None:
    assert canonical_registration_number("dvo17") == "DV.O000017"
    with pytest.raises(ValueError, match=r"needs its DV\.O or DV\.A"):
        canonical_registration_number("17")


def test_registration_unit_key_distinguishes_service_and_department() -> None:
    kbo = EnterpriseNumber.parse("0403170701")
    training = RegistrationUnit(kbo, ServiceType.TRAINING)
    advice = RegistrationUnit(kbo, ServiceType.ADVICE)
    department = RegistrationUnit(kbo, ServiceType.TRAINING, "Faculteit Economie")
    assert len({training.key, advice.key, department.key}) == 3
    assert RegistrationUnit(kbo, ServiceType.TRAINING, " faculteit economie ").key == department.key


def test_made_up_numbers_get_their_check_digits() -> None:
    assert str(EnterpriseNumber.with_check_digits(4_031_707)) == "0403170701"  # a real one
    assert str(EnterpriseNumber.with_check_digits(4_000_000)) == "0400000086"
