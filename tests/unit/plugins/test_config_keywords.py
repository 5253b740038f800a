"""config_keywords on the shapes a package's KEYWORD-value file takes (Debian's login.defs among them)."""

import pytest
from ansible_collections.groundwork.infra.plugins.filter.config_keywords_changes import config_keywords_changes
from ansible_collections.groundwork.infra.plugins.module_utils.keywords import with_settings

LOGIN_DEFS = """\
# HOME_MODE is used by useradd(8) and newusers(8) to set the mode for new
#HOME_MODE	0700
#	PASS_MAX_DAYS	Maximum number of days a password may be used.
PASS_MAX_DAYS	99999
UMASK		022
"""


@pytest.mark.parametrize(
    ("settings", "expected", "changed"),
    [
        pytest.param(
            {"PASS_MAX_DAYS": "365"},
            LOGIN_DEFS.replace("PASS_MAX_DAYS\t99999", "PASS_MAX_DAYS\t365"),
            ["PASS_MAX_DAYS"],
            id="an active line is replaced, its description left alone",
        ),
        pytest.param(
            {"HOME_MODE": "0750"},
            LOGIN_DEFS.replace("#HOME_MODE\t0700", "HOME_MODE\t0750"),
            ["HOME_MODE"],
            id="the commented-out setting is turned on, not the prose before it",
        ),
        pytest.param(
            {"LOG_OK_LOGINS": "yes"},
            LOGIN_DEFS + "LOG_OK_LOGINS\tyes\n",
            ["LOG_OK_LOGINS"],
            id="a keyword the file lacks is added at the end",
        ),
        pytest.param({"PASS_MAX_DAYS": "99999"}, LOGIN_DEFS, [], id="a value already set changes nothing"),
        pytest.param(
            {"UMASK": "027"},
            LOGIN_DEFS.replace("UMASK\t\t022", "UMASK\t027"),
            ["UMASK"],
            id="the separator is ours once we write the line",
        ),
        pytest.param(
            {"PASS": "1"},
            LOGIN_DEFS + "PASS\t1\n",
            ["PASS"],
            id="a keyword is not taken for the start of a longer one",
        ),
    ],
)
def test_settings_edit_only_their_own_lines(settings, expected, changed):
    assert with_settings(LOGIN_DEFS, settings, "\t") == (expected, changed)


def test_the_last_active_line_wins_as_with_lineinfile():
    text = "UMASK 022\nUMASK 077\n"
    assert with_settings(text, {"UMASK": "027"}, " ") == ("UMASK 022\nUMASK 027\n", ["UMASK"])


SYSSTAT = '# Valid values are "true" and "false".\nENABLED="false"\n'
CHKROOTKIT = 'RUN_DAILY="true"\nRUN_DAILY_OPTS=""\nDIFF_MODE="false"\n#MAILTO="root"\n'


@pytest.mark.parametrize(
    ("text", "settings", "expected", "changed"),
    [
        pytest.param(
            SYSSTAT,
            {"ENABLED": '"true"'},
            SYSSTAT.replace('"false"\n', '"true"\n'),
            ["ENABLED"],
            id="shell-style value",
        ),
        pytest.param(
            CHKROOTKIT,
            {"MAILTO": '""'},
            CHKROOTKIT.replace('#MAILTO="root"', 'MAILTO=""'),
            ["MAILTO"],
            id="the commented-out assignment is the one set",
        ),
        pytest.param(
            CHKROOTKIT,
            {"RUN_DAILY": '"true"'},
            CHKROOTKIT,
            [],
            id="RUN_DAILY_OPTS is not taken for RUN_DAILY",
        ),
        pytest.param('ENABLED = "true"\n', {"ENABLED": '"true"'}, 'ENABLED="true"\n', ["ENABLED"], id="spaces"),
    ],
)
def test_shell_style_assignments_with_an_equals_separator(text, settings, expected, changed):
    assert with_settings(text, settings, "=") == (expected, changed)
    assert config_keywords_changes(text, settings, "=") == changed
