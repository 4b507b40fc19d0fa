"""Organizations' name keys in every script.

The key used to be the name reduced to ASCII, which left Cyrillic, Greek, CJK and Arabic names with
an empty key (so only one such organization could exist). It now keeps every script; this
recomputes the stored keys with the function as it stands on the day of this migration, copied
here so that later changes to coalition.crm.models do not change what this migration does.

Two organizations whose new keys are the same (say "Straße" and "Strasse", which the old key told
apart) are the same name to the CRM from now on. The older one keeps the key; each later one gets a
key of its own with a suffix ("strasse~dup-7") and a warning names both, so that staff merge them.
Saving such a row in the admin says which organization has its name.
"""

import logging
import unicodedata

from django.db import migrations

logger = logging.getLogger(__name__)

# ---- As coalition.crm.models.name_key on the day of this migration ---------------------------------

NAME_KEY_LENGTH = 255

LATIN_FOLDS = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ŧ": "t", "\u0131": "i", "æ": "ae"}
    | {"œ": "oe", "þ": "th", "ё": "\u0435"}
)
ARABIC_OPTIONAL = frozenset(map(chr, range(0x064B, 0x0653))) | {"\u0640"}


def _without_optional_marks(text):
    kept = []
    after_alphabet = False
    for ch in text:
        if unicodedata.category(ch).startswith("M"):
            if not after_alphabet and ch not in ARABIC_OPTIONAL:
                kept.append(ch)
            continue
        if ch in ARABIC_OPTIONAL:
            continue
        script = unicodedata.name(ch, "").partition(" ")[0]
        after_alphabet = script in ("LATIN", "GREEK", "CYRILLIC")
        if script in ("LATIN", "GREEK"):
            ch = unicodedata.normalize("NFD", ch)[0]
        kept.append(ch)
    return "".join(kept)


def _words(text):
    words, word = [], []
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Nd":
            word.append(str(unicodedata.decimal(ch)))
        elif category[0] in "LMN":
            word.append(ch)
        elif word:
            words.append("".join(word))
            word = []
    if word:
        words.append("".join(word))
    return words


def name_key(value):
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
    text = _without_optional_marks(text.translate(LATIN_FOLDS).replace("&", " and "))
    words = _words(text)
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return "".join(words)[:NAME_KEY_LENGTH]


# ---- The recomputation --------------------------------------------------------------------------


def _suffixed(key, pk):
    # "~" never occurs in a computed key (only letters, marks and digits do), nor in a merge
    # tombstone's "merged:<pk>", so a suffixed key cannot take anyone's name.
    suffix = f"~dup-{pk}"
    return key[: NAME_KEY_LENGTH - len(suffix)] + suffix


def recompute_name_keys(apps, schema_editor):
    Organization = apps.get_model("coalition", "Organization")
    db = schema_editor.connection.alias
    # Merge tombstones keep their "merged:<pk>" key: their name belongs to the survivor.
    rows = (
        Organization.objects.using(db)
        .filter(merged_into__isnull=True)
        .order_by("pk")
        .only("pk", "name", "name_key")
    )
    owner_of = {}
    changed = []
    for org in rows.iterator(chunk_size=2000):
        key = name_key(org.name)
        if key in owner_of:
            first = owner_of[key]
            new_key = _suffixed(key, org.pk)
            logger.warning(
                "Organization %s “%s” has the same name as organization %s “%s” once scripts and "
                "accents are compared alike; it keeps the key %r until staff merge the two.",
                org.pk,
                org.name,
                first.pk,
                first.name,
                new_key,
            )
            key = new_key
        else:
            owner_of[key] = org
        if key != org.name_key:
            org.name_key = key
            changed.append(org)
    if not changed:
        return
    # In two steps: a row's new key may be another row's old one, and the key is unique.
    final = {org.pk: org.name_key for org in changed}
    for org in changed:
        org.name_key = f"~recomputing-{org.pk}"
    Organization.objects.using(db).bulk_update(changed, ["name_key"], batch_size=500)
    for org in changed:
        org.name_key = final[org.pk]
    Organization.objects.using(db).bulk_update(changed, ["name_key"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("coalition", "0008_member_portal"),
    ]

    operations = [
        # Backwards there is nothing to undo: the older code computes its own keys on save, and
        # its ASCII keys could not hold two non-Latin names anyway.
        migrations.RunPython(recompute_name_keys, migrations.RunPython.noop, elidable=False),
    ]
