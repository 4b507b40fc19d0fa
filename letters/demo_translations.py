"""Demo content: the demo's letters in French and Arabic, as staff make them with "Translate".

The published statement reads in Arabic from its current text and in French from the text of its
first version (so its page shows a translation marked as made from an earlier text); the letter out
for sign-on reads in French, which signers may choose on their page. Idempotent.
"""

from typing import Any, Protocol

from django.db import transaction
from wagtail.actions.copy_for_translation import CopyPageForTranslationAction
from wagtail.models import Locale

from . import translations
from .models import LetterPage


class Output(Protocol):
    def write(self, text: str) -> object: ...


def _section(heading: str, items: list[str]) -> dict[str, Any]:
    return {
        "type": "section",
        "value": {"heading": heading, "numbered": True, "items": [f"<p>{i}</p>" for i in items]},
    }


STATEMENT = "Statement on open digital trade rules"
SIGN_ON = "Letter on cross-border data flows (out for sign-on)"

TEXTS: dict[tuple[str, str], dict[str, Any]] = {
    # The French of the statement's first version: before "and their customers" was added.
    (STATEMENT, "fr"): {
        "title": "Déclaration pour des règles ouvertes du commerce numérique",
        "recipients": "Monsieur le Représentant au Commerce\nBureau du Représentant au Commerce",
        "salutation": "Monsieur l'Ambassadeur,",
        "body": [
            {
                "type": "paragraph",
                "value": "<p>Les associations soussignées soutiennent des règles commerciales "
                "qui maintiennent des marchés numériques ouverts, prévisibles et équitables pour "
                "les entreprises de toutes tailles.</p>",
            },
            _section(
                "Nous demandons aux négociateurs de",
                [
                    "garantir la libre circulation des données, avec des garanties pour la vie "
                    "privée ;",
                    "protéger le code source contre toute divulgation forcée ; et",
                    "rendre permanent le moratoire* sur les droits de douane applicables aux "
                    "transmissions électroniques.",
                ],
            ),
        ],
        "closing": "Veuillez agréer l'expression de notre haute considération.",
        "footnotes": "* L'engagement des membres de l'OMC, renouvelé depuis 1998, de ne pas "
        "imposer de droits de douane sur les transmissions électroniques.",
    },
    (STATEMENT, "ar"): {
        "title": "بيان بشأن قواعد مفتوحة للتجارة الرقمية",
        "recipients": "السيد الممثل التجاري\nمكتب الممثل التجاري",
        "salutation": "سعادة السفير،",
        "body": [
            {
                "type": "paragraph",
                "value": "<p>تؤيد الجمعيات الموقعة أدناه قواعد تجارية تُبقي الأسواق الرقمية "
                "مفتوحة وقابلة للتنبؤ وعادلة للشركات من جميع الأحجام ولعملائها.</p>",
            },
            _section(
                "نطلب من المفاوضين",
                [
                    "ضمان حرية تدفق البيانات مع ضمانات لحماية الخصوصية؛",
                    "حماية الشيفرة المصدرية من الإفصاح القسري؛",
                    "جعل الوقف* على الرسوم الجمركية على الإرسالات الإلكترونية دائمًا.",
                ],
            ),
        ],
        "closing": "وتفضلوا بقبول فائق الاحترام،",
        "footnotes": "* تعهّد أعضاء منظمة التجارة العالمية، المجدَّد منذ عام 1998، بعدم فرض "
        "رسوم جمركية على الإرسالات الإلكترونية.",
    },
    (SIGN_ON, "fr"): {
        "title": "Lettre sur les flux de données transfrontières",
        "recipients": "Monsieur le Représentant au Commerce\nBureau du Représentant au Commerce",
        "salutation": "Monsieur l'Ambassadeur,",
        "body": [
            {
                "type": "paragraph",
                "value": "<p>Nous, associations soussignées, demandons que l'accord commercial "
                "en cours de négociation protège la libre circulation des données par-delà les "
                "frontières.</p>",
            },
            {"type": "heading", "value": "Nos demandes"},
            {
                "type": "bullets",
                "value": [
                    "<p>Interdire les exigences de localisation des données qui ne servent "
                    "aucun objectif légitime.</p>",
                    "<p>Maintenir le moratoire sur les droits de douane applicables aux "
                    "transmissions électroniques.</p>",
                ],
            },
        ],
        "closing": "Veuillez agréer l'expression de notre haute considération.",
    },
}


@transaction.atomic
def load(stdout: Output) -> None:
    for (title, code), text in TEXTS.items():
        letter = LetterPage.objects.filter(title=title, translates_revision__isnull=True).first()
        if letter is None:
            continue
        locale, _created = Locale.objects.get_or_create(language_code=code)
        if letter.get_translation_or_none(locale) is not None:
            continue
        translation = CopyPageForTranslationAction(letter, locale, copy_parents=True).execute(
            skip_permission_checks=True
        )
        for name, value in text.items():
            setattr(translation, name, value)
        translation.save_revision().publish()
        if code == "fr" and title == STATEMENT:
            first = letter.publications.order_by("version").first()
            if first is not None:
                LetterPage.objects.filter(pk=translation.pk).update(
                    translates_revision=first.revision
                )
        where = (
            translations.translation_url(letter, code)
            if letter.live
            else "signers choose it on their page"
        )
        stdout.write(f"Translated “{title}” into {translations.language_name(code)}: {where}\n")
