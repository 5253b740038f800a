"""host_info: a locale is present when `locale -a` lists it under glibc's spelling of its name."""

import pytest
from ansible_collections.groundwork.infra.plugins.modules.host_info import missing_locales

LOCALE_A = "C\nC.utf8\nPOSIX\nen_US.utf8\nde_DE@euro\nsr_RS.utf8@latin\n"


@pytest.mark.parametrize(
    ("name", "present"),
    [
        ("en_US.UTF-8", True),  # the spelling locale.gen and LANG use
        ("en_US.utf8", True),  # glibc's own
        ("C.UTF-8", True),
        ("POSIX", True),
        ("de_DE@euro", True),
        ("sr_RS.UTF-8@latin", True),  # the modifier after the codeset
        ("sr_RS.UTF-8", False),  # the same language without the modifier is another locale
        ("de_DE.UTF-8", False),
        ("en_US", False),  # ISO-8859-1: not generated here
        ("en_GB.ISO-8859-15", False),
    ],
)
def test_a_locale_is_present_when_locale_a_lists_it(name, present):
    assert (missing_locales([name], LOCALE_A) == []) == present


def test_missing_locales_keep_the_spelling_and_order_given():
    assert missing_locales(["de_DE.UTF-8", "en_US.UTF-8", "fr_FR.UTF-8"], LOCALE_A) == ["de_DE.UTF-8", "fr_FR.UTF-8"]
