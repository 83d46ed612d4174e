"""Email addresses that read alike: Unicode's confusable skeleton and mixed scripts (UTS #39).

The skeleton maps every character to the prototype it looks like (`confusables.txt`), so
`admin` shares it with its spellings with a Cyrillic `a` or a dotless `i`. It is a comparison
key: never show it, and recompute the stored ones when an upgrade brings new Unicode data.
"""

import re

from glyphguard.confusables import is_mixed_script, scripts_used, skeleton

# `i` and `j` carry their dot already; a combining dot above draws nothing more, and it is
# what lowercasing `İ` leaves behind ("İ".lower() == "i\u0307").
_DOT_ABOVE_A_DOTTED_LETTER = re.compile("(?<=[ij])\u0307")


def email_skeleton(email: str) -> str:
    """The key that two addresses share when they read alike, in any case."""
    # Lowercase on both sides: prototypes may be capitals (`0` looks like `O`).
    return _DOT_ABOVE_A_DOTTED_LETTER.sub("", skeleton(email.lower()).lower())


def mixed_scripts(text: str) -> list[str] | None:
    """The scripts `text` mixes, most used first, or None if one script covers all of it.

    Digits, punctuation and combining marks belong to every script (UTS #39, section 5.1).
    The list can be shorter than two when a shared character, such as the Arabic tatweel,
    belongs to some scripts only.
    """
    return scripts_used(text) if is_mixed_script(text) else None
