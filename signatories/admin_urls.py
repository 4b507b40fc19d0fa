from django.urls import path

from . import admin_views

app_name = "signatories_admin"

urlpatterns = [
    path("", admin_views.index, name="index"),
    path("open/", admin_views.open_sign_on, name="open"),
    path("review/", admin_views.review, name="review"),
    path("review/<int:pk>/approve/", admin_views.approve, name="approve"),
    path("review/approve/", admin_views.approve_ticked, name="approve_ticked"),
    path(
        "review/<int:pk>/display-name/",
        admin_views.correct_display_name,
        name="correct_display_name",
    ),
    path("review/reject/", admin_views.reject, name="reject"),
    path("review/all/", admin_views.review_all, name="review_all"),
    path("recipients/", admin_views.recipient_report, name="recipient_report"),
    path("recipients/export.csv", admin_views.recipient_report_csv, name="recipient_report_csv"),
    path("<int:pk>/", admin_views.tracker, name="tracker"),
    path("<int:pk>/export.<str:fmt>", admin_views.export, name="export"),
    path("<int:pk>/close/", admin_views.close, name="close"),
    path("<int:pk>/deadline/", admin_views.deadline, name="deadline"),
    path("<int:pk>/invite/", admin_views.invite, name="invite"),
    path("<int:pk>/remind/", admin_views.remind, name="remind"),
    path("<int:pk>/cancel/", admin_views.cancel, name="cancel"),
    path("<int:pk>/recirculate/", admin_views.recirculate, name="recirculate"),
    path("<int:pk>/open-link/", admin_views.issue_open_link, name="issue_open_link"),
    path("<int:pk>/open-link/close/", admin_views.close_open_link, name="close_open_link"),
    path("<int:pk>/approval-rules/", admin_views.approval_rules, name="approval_rules"),
    path("<int:pk>/publish/", admin_views.publish, name="publish"),
    path("<int:pk>/embargo/", admin_views.embargo, name="embargo"),
    path("<int:pk>/embargo/lift/", admin_views.lift_embargo, name="lift_embargo"),
    path("<int:pk>/embargo/press/", admin_views.add_press_preview, name="add_press_preview"),
    path(
        "<int:pk>/embargo/press/<int:preview_pk>/revoke/",
        admin_views.revoke_press_preview,
        name="revoke_press_preview",
    ),
    path("letters/<int:letter_pk>/corrections/", admin_views.corrections, name="corrections"),
    path("letters/<int:letter_pk>/drafting/", admin_views.drafting, name="drafting"),
    path("letters/<int:letter_pk>/recipients/", admin_views.recipients, name="recipients"),
    path("letters/<int:letter_pk>/recipients/send/", admin_views.send_letter, name="send_letter"),
    path(
        "letters/<int:letter_pk>/recipients/by-hand/",
        admin_views.hand_delivery,
        name="hand_delivery",
    ),
    path(
        "letters/<int:letter_pk>/deliveries/<int:delivery_pk>/scan/",
        admin_views.delivery_scan,
        name="delivery_scan",
    ),
    path(
        "letters/<int:letter_pk>/recipients/remind/",
        admin_views.remind_recipients,
        name="remind_recipients",
    ),
    path("letters/<int:letter_pk>/answers/", admin_views.answers, name="answers"),
    path(
        "letters/<int:letter_pk>/answers/<int:answer_pk>/publish/",
        admin_views.publish_answer,
        name="publish_answer",
    ),
    path(
        "letters/<int:letter_pk>/answers/<int:answer_pk>/file/",
        admin_views.answer_file,
        name="answer_file",
    ),
    path(
        "letters/<int:letter_pk>/drafting/shares/<int:share_pk>/revoke/",
        admin_views.revoke_draft_share,
        name="revoke_draft_share",
    ),
    path(
        "letters/<int:letter_pk>/drafting/comments/<int:comment_pk>/",
        admin_views.draft_comment,
        name="draft_comment",
    ),
    path(
        "letters/<int:letter_pk>/corrections/publish/",
        admin_views.publish_correction,
        name="publish_correction",
    ),
    path(
        "letters/<int:letter_pk>/corrections/withdraw/<int:signature_pk>/",
        admin_views.retract,
        name="retract",
    ),
]
