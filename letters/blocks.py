from typing import Any

from wagtail import blocks

INLINE_FEATURES = ["bold", "italic", "link"]


class ParagraphBlock(blocks.RichTextBlock):
    class Meta:
        icon = "pilcrow"
        template = "letters/blocks/paragraph.html"


class HeadingBlock(blocks.CharBlock):
    class Meta:
        icon = "title"
        template = "letters/blocks/heading.html"


class BulletedListBlock(blocks.ListBlock):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(blocks.RichTextBlock(features=INLINE_FEATURES), **kwargs)

    class Meta:
        icon = "list-ul"
        template = "letters/blocks/bullets.html"


class NumberedListBlock(blocks.ListBlock):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(blocks.RichTextBlock(features=INLINE_FEATURES), **kwargs)

    class Meta:
        icon = "list-ol"
        template = "letters/blocks/numbered.html"


class SectionBlock(blocks.StructBlock):
    """A heading with its list, printed as one unit (the "➤ heading" sections of a letter)."""

    heading = blocks.CharBlock()
    numbered = blocks.BooleanBlock(required=False, help_text="Number the items instead of bullets.")
    items = blocks.ListBlock(blocks.RichTextBlock(features=INLINE_FEATURES))

    class Meta:
        icon = "list-ul"
        template = "letters/blocks/section.html"


class LetterBodyBlock(blocks.StreamBlock):
    paragraph = ParagraphBlock(features=INLINE_FEATURES)
    heading = HeadingBlock()
    bullets = BulletedListBlock(label="Bulleted list")
    numbered = NumberedListBlock(label="Numbered list")
    section = SectionBlock(label="Headed section")

    class Meta:
        block_counts: dict[str, dict[str, int]] = {}
