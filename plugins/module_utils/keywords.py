# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""KEYWORD-value lines of a package's configuration file: which line holds a keyword, and the text
with the settings applied. Shared by the config_keywords module (which writes) and the
config_keywords_changes filter (which tells, from text read on the host, whether it must run).
"""

from __future__ import annotations

import re


def line_index(lines: list[str], keyword: str, separator: str = "\t") -> int | None:
    """The line that holds the keyword: the last one that sets it or comments it out.

    After the keyword comes white space, or the separator when it is more than white space
    (C(MAILTO=...) with separator C(=)).
    """
    tail = r"\s*" + re.escape(separator.strip()) if separator.strip() else r"\s"
    pattern = re.compile(rf"^#?\s*{re.escape(keyword)}{tail}")
    found = [number for number, line in enumerate(lines) if pattern.match(line)]
    return found[-1] if found else None


def with_settings(text: str, settings: dict[str, str], separator: str) -> tuple[str, list[str]]:
    """The file's text with each keyword set, and the keywords that changed."""
    lines = text.splitlines()
    changed = []
    for keyword, value in settings.items():
        wanted = f"{keyword}{separator}{value}"
        number = line_index(lines, keyword, separator)
        if number is None:
            lines.append(wanted)
        elif lines[number] == wanted:
            continue
        else:
            lines[number] = wanted
        changed.append(keyword)
    return "\n".join(lines) + "\n", changed
