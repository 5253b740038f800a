"""host_info: a locale is present when `locale -a` lists it under glibc's spelling of its name; an
admin account or its keys differ exactly where ansible.builtin.user or ansible.posix.authorized_key
would change them."""

import stat
from types import SimpleNamespace

import pytest
from ansible_collections.groundwork.infra.plugins.modules.host_info import account_differs, keys_differ, missing_locales

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


# What account_differs reads of pwd.getpwnam's result.
ADMIN = SimpleNamespace(pw_name="ada", pw_gecos="Ada Admin", pw_shell="/bin/bash")
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2Xw5s5dS3jV1I0s3d2m7YpXkqvE3v9hR4aZ1y8b6cX ada@laptop"


@pytest.mark.parametrize(
    ("wanted", "entry", "groups", "differs"),
    [
        ({"name": "ada", "comment": "Ada Admin"}, ADMIN, {"ada", "admins"}, False),
        ({"name": "ada"}, ADMIN, {"ada", "admins"}, False),  # no comment given: the account's is kept
        ({"name": "ada", "comment": "", "shell": "/bin/bash", "state": "present"}, ADMIN, {"admins"}, False),
        ({"name": "ada", "comment": "Ada Lovelace"}, ADMIN, {"admins"}, True),
        ({"name": "ada", "shell": "/bin/zsh"}, ADMIN, {"admins"}, True),
        ({"name": "ada"}, ADMIN, {"ada"}, True),  # not in the admin group: no sudo, no AllowGroups
        ({"name": "ada"}, None, set(), True),  # no such account
    ],
)
def test_an_account_differs_where_the_user_module_would_change_it(wanted, entry, groups, differs):
    assert account_differs(wanted, entry, groups, "admins") is differs


def stat_of(mode, uid=1000):
    """What keys_differ reads of os.stat's result."""
    return SimpleNamespace(st_mode=stat.S_IFREG | mode, st_uid=uid)


@pytest.mark.parametrize(
    ("keys", "text", "modes", "differ"),
    [
        ([KEY], KEY + "\n", (0o600, 0o700, 1000), False),
        ([KEY], "# managed\n\n" + KEY + "\n", (0o600, 0o700, 1000), False),  # comments and blank lines aside
        ([KEY], KEY + "\nssh-ed25519 AAAAother intruder\n", (0o600, 0o700, 1000), True),  # a key not given
        ([KEY, KEY.replace("ada@", "ada2@")], KEY + "\n", (0o600, 0o700, 1000), True),  # a key missing
        ([KEY], None, (0o600, 0o700, 1000), True),  # no file
        ([KEY], KEY + "\n", (0o644, 0o700, 1000), True),  # readable by others
        ([KEY], KEY + "\n", (0o600, 0o755, 1000), True),
        ([KEY], KEY + "\n", (0o600, 0o700, 0), True),  # root's file in the user's home
        ([], "", (0o600, 0o700, 1000), False),  # no keys wanted and none there
    ],
)
def test_keys_differ_where_authorized_key_would_rewrite_or_fix_them(keys, text, modes, differ):
    file_mode, dir_mode, uid = modes  # the file's, its directory's, the file's owner
    file_stat = stat_of(file_mode, uid) if text is not None else None
    assert keys_differ(keys, text, 1000, file_stat, stat_of(dir_mode)) is differ
