"""groundwork.infra.supported_platform as a table: distribution facts in, whether the roles run there out."""

import pytest
from ansible_collections.groundwork.infra.plugins.test.supported_platform import supported_platform


@pytest.mark.parametrize(
    ("distribution", "major", "supported"),
    [
        ("Debian", "12", True),
        ("Debian", "13", True),
        ("Debian", "11", False),
        ("Debian", "14", False),
        ("Ubuntu", "24", False),
        ("RedHat", "9", False),
        # Facts gathered without the distribution subset.
        (None, None, False),
    ],
)
def test_supported_platform(distribution, major, supported):
    facts = {"distribution": distribution, "distribution_major_version": major} if distribution else {}
    assert supported_platform(facts) is supported
